package sandbox

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// probeTimeout bounds the namespace probe: a helper that hangs must not
// hold the server's start.
const probeTimeout = 10 * time.Second

// Probe finds what this machine can enforce: the Landlock ABI, seccomp
// filters, and, by running the helper for real (namespaces, mounts, lo,
// the command stage in its nested user namespace, capabilities, Landlock
// and seccomp applied, `true` run, then exit), whether the namespaces
// work. It takes a few milliseconds;
// call it once and keep the result. The binary's main must call
// RunHelper.
func Probe() Support {
	s := Support{OS: "linux", LandlockABI: landlockABI(), Seccomp: seccompSupported()}
	if forced, ok := forcedSupport(); ok {
		return forced
	}
	cmd := exec.Command("/bin/true")
	if err := Wrap(cmd, Policy{Mode: WorkspaceWrite, WritableRoots: []string{"/tmp"}, ReadOnlyPaths: []string{"/tmp"}, Network: NetworkNone}); err != nil {
		s.NamespacesErr = err.Error()
		return s
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		s.NamespacesErr = err.Error()
		return s
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "app-server sandbox: "))
			if msg == "" {
				msg = err.Error()
			}
			s.NamespacesErr = msg
			return s
		}
	case <-time.After(probeTimeout):
		_ = cmd.Process.Kill()
		<-done
		s.NamespacesErr = fmt.Sprintf("the helper did not finish within %v", probeTimeout)
		return s
	}
	s.Namespaces = true
	return s
}

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// runExec is stage 2, started by the helper in a nested user namespace
// where it is the server's uid. It gives up every capability, sets
// no_new_privs, applies the Landlock write rules and the seccomp filter,
// and execs the command (or exits 0 when probing).
func runExec(req *request) {
	// Capabilities are per thread: the thread that drops them must be
	// the one that execs.
	runtime.LockOSThread()
	if err := dropCapabilities(); err != nil {
		fatalf("dropping capabilities: %v", err)
	}
	if err := restrictFiles(req.Policy); err != nil {
		fatalf("landlock: %v", err)
	}
	if err := loadSeccomp(); err != nil {
		fatalf("seccomp: %v", err)
	}
	if req.Probe {
		os.Exit(0)
	}
	err := syscall.Exec(req.Path, req.Args, os.Environ())
	fmt.Fprintf(os.Stderr, "app-server sandbox: exec %s: %v\n", req.Path, err)
	if errors.Is(err, syscall.ENOENT) {
		os.Exit(127)
	}
	os.Exit(126)
}

// dropCapabilities leaves the thread with no capability and no way back:
// root is not special (SECBIT_NOROOT, locked), the bounding and ambient
// sets are empty, and the effective, permitted and inheritable sets are
// cleared. A non-root uid lost its capabilities at exec already; then only
// the clearing applies (the rest needs CAP_SETPCAP, and is moot).
func dropCapabilities() error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clearing ambient capabilities: %w", err)
	}
	if hasCap(unix.CAP_SETPCAP) {
		const bits = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<5 // NOROOT, NOROOT_LOCKED, NO_SETUID_FIXUP, NO_SETUID_FIXUP_LOCKED, KEEP_CAPS_LOCKED
		if err := unix.Prctl(unix.PR_SET_SECUREBITS, bits, 0, 0, 0); err != nil {
			return fmt.Errorf("securebits: %w", err)
		}
		for c := 0; c <= unix.CAP_LAST_CAP; c++ {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
			}
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return err
	}
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	for _, d := range data {
		if d.Effective|d.Permitted|d.Inheritable != 0 {
			return errors.New("capabilities remain after capset")
		}
	}
	return nil
}

func hasCap(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

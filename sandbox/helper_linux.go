package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// RunHelper makes the binary a sandbox stage when it was started as one
// (its first argument is a hidden stage name): it then never returns.
// Otherwise it returns at once. Call it first thing in main, and in
// TestMain of packages whose tests run sandboxed commands.
func RunHelper() {
	helperWired.Store(true)
	if len(os.Args) < 2 {
		return
	}
	switch os.Args[1] {
	case helperArg:
		if len(os.Args) < 3 {
			fatalf("no request")
		}
		req, err := decodeRequest(os.Args[2])
		if err != nil {
			fatalf("%v", err)
		}
		req.Env = os.Environ()
		runHelper(req.UID, req.GID, nil, req)
	case spareArg:
		if len(os.Args) < 4 {
			fatalf("spare: no uid and gid")
		}
		uid, err1 := strconv.Atoi(os.Args[2])
		gid, err2 := strconv.Atoi(os.Args[3])
		if err1 != nil || err2 != nil {
			fatalf("spare: bad uid or gid")
		}
		runHelper(uid, gid, os.NewFile(3, "sandbox-spare"), nil)
	case stageArg:
		runStage()
	}
}

// runHelper runs in fresh user, network, pid, mount and IPC namespaces,
// root in its user namespace (which maps to the server's uid), and is PID
// 1 of the sandbox's pid namespace. It sets the namespaces up, starts the
// command stage (stage_linux.go) in a nested user namespace, hands it the
// command, relays the proxy, forwards termination signals and exits with
// the stage's status, the command's (128+N if a signal N killed it). Its
// exit kills every process left in the pid namespace.
//
// A cold helper (Wrap) has its request and runs one command. A spare
// (Spares) has the server's socket instead: it says there when it is
// ready, receives commands there one at a time, and after each one (the
// stage has reported its status to the server and killed what it left)
// undoes the command's mounts and empties /dev/shm before it says it is
// ready again.
func runHelper(uid, gid int, server *os.File, req *request) {
	if os.Getpid() != 1 {
		fatalf("helper is not PID 1 of a new pid namespace")
	}
	if err := prepareMounts(); err != nil {
		fatalf("mounts: %v", err)
	}
	st, err := startStage(uid, gid, server)
	if err != nil {
		fatalf("%v", err)
	}
	if err := loopbackUp(); err != nil {
		fatalf("bringing lo up: %v", err)
	}
	// Signals for the command: catch them before it starts, so none is
	// lost (PID 1 ignores signals it has no handler for).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	go forwardSignals(sigs)

	if server == nil {
		var rel relays
		if _, err := handOver(st, req, &rel); err != nil {
			fatalf("%v", err)
		}
		os.Exit(reap(st.pid, true))
	}
	go func() { os.Exit(reap(st.pid, true)) }()
	var rel relays
	if err := rel.listen(); err != nil { // ahead of the command, which likely uses it
		fatalf("proxy relay: %v", err)
	}
	if err := st.ready(); err != nil {
		select {} // the stage is gone: reap ends the helper
	}
	for {
		if _, err := server.Write([]byte{1}); err != nil {
			os.Exit(exitSetupFailed)
		}
		req, stdout, stderr, err := receiveHandoff(server)
		if err != nil {
			os.Exit(exitSetupFailed) // the server is gone or no longer needs us
		}
		if err := takeStdio(stdout, stderr); err != nil {
			fatalf("stdio: %v", err)
		}
		mounted, err := handOver(st, req, &rel)
		if err != nil {
			fatalf("%v", err)
		}
		// The stage says it is done with the command (and ready for the
		// next) after it reported the status and killed the leftovers.
		if err := st.ready(); err != nil {
			select {}
		}
		if err := resetMounts(mounted); err != nil {
			fatalf("after the command: %v", err)
		}
	}
}

// handOver sets req's sandbox up (its mounts, its relay) and hands the
// command to the stage with fds 1 and 2, which it then lets go. It
// returns the mounts to undo after the command.
func handOver(st *stage, req *request, rel *relays) ([]policyMount, error) {
	mounted, err := policyMounts(req.Policy)
	if err != nil {
		return nil, fmt.Errorf("mounts: %w", err)
	}
	if req.Policy.Network == NetworkProxy {
		if err := rel.serve(*req.Policy.Proxy); err != nil {
			return nil, fmt.Errorf("proxy relay: %w", err)
		}
		httpPort, socksPort := rel.ports()
		req.Env = rewriteProxyEnv(req.Env, httpPort, socksPort)
	} else {
		rel.close() // nothing listens: a connection is refused at once
	}
	if err := sendHandoff(st.sock, req, 1, 2); err != nil {
		return nil, fmt.Errorf("handing the command to its stage: %w", err)
	}
	releaseStdio()
	return mounted, nil
}

// forwardSignals passes termination signals to every process of the pid
// namespace (kill(-1) from PID 1 spares PID 1).
func forwardSignals(sigs <-chan os.Signal) {
	for s := range sigs {
		_ = syscall.Kill(-1, s.(syscall.Signal))
	}
}

// reap waits for every child (orphans are reparented to PID 1) until the
// command stage exits, and returns its exit status (the command's). It
// resumes the stage if it is stopped: a command runs as the same user as
// its stage and, where Landlock cannot scope signals (before ABI 6), can
// send it SIGSTOP, which would hold up the command's report and the next
// command on a spare. The stage reaps its command with resume false: a
// command that stops itself stays stopped, as it would outside.
func reap(pid int, resume bool) int {
	opts := 0
	if resume {
		opts = syscall.WUNTRACED
	}
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, opts, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			fatalf("waiting for the command: %v", err)
		}
		if got != pid {
			continue
		}
		switch {
		case ws.Stopped():
			_ = syscall.Kill(pid, syscall.SIGCONT)
		case ws.Exited():
			return ws.ExitStatus()
		case ws.Signaled():
			return 128 + int(ws.Signal())
		}
	}
}

// sigsysExit is the helper's exit status for a command killed by SIGSYS.
const sigsysExit = 128 + int(syscall.SIGSYS)

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
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
		runHelper(req, os.Environ())
	case spareArg:
		runSpare()
	}
}

// runHelper runs in fresh user, network, pid and mount namespaces, as the
// server's uid with the few capabilities it needs there (ambient, from
// Wrap), and is PID 1 of the command's pid namespace. It sets the
// namespaces up, starts the command from a thread that holds no
// capability and carries the Landlock and seccomp restrictions (see
// startRestricted), relays the proxy, forwards termination signals, reaps
// orphans and exits with the command's status (128+N if a signal N killed
// it). Its exit kills every process left in the pid namespace.
func runHelper(req *request, env []string) {
	if os.Getpid() != 1 {
		fatalf("helper is not PID 1 of a new pid namespace")
	}
	if err := setupMounts(req.Policy); err != nil {
		fatalf("mounts: %v", err)
	}
	if err := loopbackUp(); err != nil {
		fatalf("bringing lo up: %v", err)
	}
	if req.Policy.Network == NetworkProxy {
		httpPort, socksPort, err := startRelays(*req.Policy.Proxy)
		if err != nil {
			fatalf("proxy relay: %v", err)
		}
		env = rewriteProxyEnv(env, httpPort, socksPort)
	}

	// Signals for the command: catch them before it starts, so none is
	// lost (PID 1 ignores signals it has no handler for).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)

	pid, err := startRestricted(req, env)
	if err != nil {
		fmt.Fprintf(os.Stderr, "app-server sandbox: starting %s: %v\n", req.Path, err)
		os.Exit(exitStatusOfStartError(err))
	}
	go forwardSignals(sigs)
	os.Exit(reap(pid))
}

// forwardSignals passes termination signals to every process of the pid
// namespace (kill(-1) from PID 1 spares PID 1).
func forwardSignals(sigs <-chan os.Signal) {
	for s := range sigs {
		_ = syscall.Kill(-1, s.(syscall.Signal))
	}
}

// reap waits for every child (orphans are reparented to PID 1) until the
// command itself exits, and returns its exit status.
func reap(pid int) int {
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, 0, nil)
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
		case ws.Exited():
			return ws.ExitStatus()
		case ws.Signaled():
			return 128 + int(ws.Signal())
		}
	}
}

// sigsysExit is the helper's exit status for a command killed by SIGSYS.
const sigsysExit = 128 + int(syscall.SIGSYS)

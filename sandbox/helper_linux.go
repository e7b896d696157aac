package sandbox

import (
	"errors"
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

// runHelper runs in fresh user, network, pid and mount namespaces, root
// in its user namespace (which maps to the server's uid), and is PID 1 of
// the command's pid namespace. It sets the namespaces up, starts the
// command stage (stage_linux.go) in a nested user namespace, hands it the
// command, relays the proxy, forwards termination signals, reaps orphans
// and exits with the command's status (128+N if a signal N killed it).
// Its exit kills every process left in the pid namespace.
//
// A cold helper (Wrap) has its request; a spare (Spares) has the server's
// socket instead: it says there when it and its stage are ready, receives
// the command there, and its stage reports the command's status there.
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
	var rel *relays
	if server != nil || req.Policy.Network == NetworkProxy {
		if rel, err = listenRelays(); err != nil {
			fatalf("proxy relay: %v", err)
		}
	}
	stdout, stderr := 1, 2
	if server != nil {
		if err := st.ready(); err != nil {
			fatalf("%v", err)
		}
		if _, err := server.Write([]byte{1}); err != nil {
			os.Exit(exitSetupFailed)
		}
		if req, stdout, stderr, err = receiveHandoff(server); err != nil {
			os.Exit(exitSetupFailed) // the server is gone or no longer needs us
		}
		server.Close()
		if err := takeStdio(stdout, stderr); err != nil {
			fatalf("stdio: %v", err)
		}
		stdout, stderr = 1, 2
	}
	if err := policyMounts(req.Policy); err != nil {
		fatalf("mounts: %v", err)
	}
	if req.Policy.Network == NetworkProxy {
		if err := rel.serve(*req.Policy.Proxy); err != nil {
			fatalf("proxy relay: %v", err)
		}
		httpPort, socksPort := rel.ports()
		req.Env = rewriteProxyEnv(req.Env, httpPort, socksPort)
	} else if rel != nil {
		rel.close()
	}

	// Signals for the command: catch them before it starts, so none is
	// lost (PID 1 ignores signals it has no handler for).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)

	if err := sendHandoff(st.sock, req, stdout, stderr); err != nil {
		fatalf("handing the command to its stage: %v", err)
	}
	// st.sock stays open: closing it with the stage's ready byte unread
	// would reset the connection and lose the hand-off.
	releaseStdio()
	go forwardSignals(sigs)
	os.Exit(reap(st.pid))
}

// forwardSignals passes termination signals to every process of the pid
// namespace (kill(-1) from PID 1 spares PID 1).
func forwardSignals(sigs <-chan os.Signal) {
	for s := range sigs {
		_ = syscall.Kill(-1, s.(syscall.Signal))
	}
}

// reap waits for every child (orphans are reparented to PID 1) until the
// command stage exits, and returns its exit status (the command's).
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

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// launcher is an OS thread of the command stage, locked to one goroutine,
// that starts the command. It first gives up every capability but the
// one its fork needs (with root made powerless, so that the command's
// exec leaves it none at all), sets
// no_new_privs and loads the seccomp filter; when the command comes it
// adds the policy's Landlock write rules and forks it. Credentials,
// Landlock domains and seccomp filters are per thread and inherited by a
// fork, so the command starts restricted without an exec of its own in
// between; the stage's other threads (its reaper) stay as they were. The
// thread ends with the goroutine (it stays locked), so nothing else ever
// runs on it; the Go runtime starts new threads from its template thread,
// never from a locked one.
type launcher struct {
	requests chan *request
	results  chan launched
}

type launched struct {
	pid int
	err error
}

// newLauncher prepares the thread: everything the command is held to
// that does not depend on its policy.
func newLauncher() (*launcher, error) {
	l := &launcher{requests: make(chan *request), results: make(chan launched, 1)}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := restrictThread(); err != nil {
			ready <- err
			return
		}
		ready <- nil
		req := <-l.requests
		if err := restrictFiles(req.Policy); err != nil {
			l.results <- launched{err: fmt.Errorf("landlock: %w", err)}
			return
		}
		// syscall.ForkExec rather than os.StartProcess: the latter first
		// forks a throwaway child to probe pidfd support, once per
		// process, which here means once per command.
		// The directory by its path, even when the command inherits it:
		// the stage's working directory was taken before the command's
		// mounts, so it names the read-only mount under a writable
		// root's bind, not the bind.
		dir := req.Dir
		if dir == "" {
			var err error
			if dir, err = os.Getwd(); err != nil {
				l.results <- launched{err: fmt.Errorf("working directory: %w", err)}
				return
			}
		}
		pid, err := syscall.ForkExec(req.Path, req.Args, &syscall.ProcAttr{
			Dir:   dir,
			Env:   req.Env,
			Files: []uintptr{0, 1, 2},
			// An IPC namespace of its own: no System V object or POSIX
			// message queue of the host's, or of an earlier command on
			// the same helper, is the command's to see.
			Sys: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWIPC},
		})
		l.results <- launched{pid, err}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return l, nil
}

// launch starts req's command on the prepared thread; it can be called
// once.
func (l *launcher) launch(req *request) (int, error) {
	l.requests <- req
	r := <-l.results
	return r.pid, r.err
}

// restrictThread applies to the calling (locked) thread what every
// command is held to: no capability, no_new_privs, the seccomp filter.
func restrictThread() error {
	if err := dropCapabilities(unix.CAP_SYS_ADMIN); err != nil {
		return fmt.Errorf("dropping capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := loadSeccomp(); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}

// dropCapabilities leaves the thread with no capability but keep (which
// it needs for the fork) and the child it forks with none at all, and no
// way back for what it execs: root is not special (SECBIT_NOROOT,
// locked), the bounding and ambient sets are empty and the inheritable
// set is clear, so an exec computes empty permitted and effective sets
// whatever the thread held.
func dropCapabilities(keep int) error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clearing ambient capabilities: %w", err)
	}
	if !hasCap(unix.CAP_SETPCAP) || !hasCap(keep) {
		return errors.New("the command stage lacks the capabilities it needs to drop them for good")
	}
	const bits = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<5 // NOROOT, NOROOT_LOCKED, NO_SETUID_FIXUP, NO_SETUID_FIXUP_LOCKED, KEEP_CAPS_LOCKED
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, bits, 0, 0, 0); err != nil {
		return fmt.Errorf("securebits: %w", err)
	}
	for c := 0; c <= unix.CAP_LAST_CAP; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	data[keep/32].Effective = 1 << (keep % 32)
	data[keep/32].Permitted = 1 << (keep % 32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return err
	}
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	for i, d := range data {
		if d.Inheritable != 0 || (d.Effective|d.Permitted)&^want(i, keep) != 0 {
			return errors.New("capabilities remain after capset")
		}
	}
	return nil
}

// want is the word i of a capability set holding only c.
func want(i, c int) uint32 {
	if c/32 != i {
		return 0
	}
	return 1 << (c % 32)
}

func hasCap(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

// exitStatusOfStartError is the exit status for a command that could not
// be started: 127 when it does not exist, 126 otherwise (as a shell says).
func exitStatusOfStartError(err error) int {
	if errors.Is(err, syscall.ENOENT) {
		return 127
	}
	return 126
}

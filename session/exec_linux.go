package session

import "syscall"

// processAttr puts a command in a process group of its own, and kills it
// if the server dies without killing it (kill -9): a parent-death signal.
// The signal reaches the command's main process only; what that process
// started stays, unless the sandbox's pid namespace holds it.
func processAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

package session

import (
	"os"
	"syscall"
)

// processAttr: Windows has no process groups to signal the way a Unix
// server does. Sandboxed commands fail closed there (package sandbox), so
// only danger-full-access commands run; this keeps the package building.
func processAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}

// killGroup kills the command's main process (Windows cannot signal a
// group; what it started may outlive it).
func killGroup(pid int, _ syscall.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

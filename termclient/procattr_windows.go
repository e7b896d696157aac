package termclient

import "syscall"

// ownProcessGroup: Windows has no process groups in this sense; the
// client keeps building there.
func ownProcessGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}

//go:build !linux && !windows

package session

import "syscall"

// processAttr puts a command in a process group of its own. There is no
// parent-death signal outside Linux: a command outlives a server killed
// with kill -9.
func processAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

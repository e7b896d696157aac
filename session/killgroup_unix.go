//go:build unix

package session

import "syscall"

// killGroup signals every process of the group. Errors are ignored: ESRCH
// means nothing is left to signal, and nothing else can be done about EPERM.
func killGroup(pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
}

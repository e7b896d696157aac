//go:build unix

package netapproval

import (
	"fmt"
	"os"
	"syscall"
)

// fileLock is an exclusive advisory lock on a lock file, held across a
// read-modify-write of rules.toml so two servers on one home serialize.
type fileLock struct{ f *os.File }

// lockFile blocks until it holds the exclusive lock on path. Other holders
// only keep it for one rewrite, so the wait is short.
func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("netapproval: open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("netapproval: lock %s: %w", path, err)
	}
	return &fileLock{f: f}, nil
}

// unlock releases the lock; closing the descriptor drops the flock.
func (l *fileLock) unlock() error { return l.f.Close() }

//go:build !unix

package netapproval

import "os"

// fileLock on platforms without flock only creates the lock file; two
// servers on one home are not serialized there. The server targets Linux.
type fileLock struct{ f *os.File }

func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &fileLock{f: f}, nil
}

func (l *fileLock) unlock() error { return l.f.Close() }

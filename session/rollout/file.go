package rollout

import (
	"fmt"
	"os"
	"sync"

	"github.com/google/uuid"
)

// File appends to one thread's file. Its methods are safe for
// concurrent use; Append blocks on the write, and on fsync when asked.
type File struct {
	id   uuid.UUID
	path string
	mu   sync.Mutex // guards f, nil once closed, and torn
	f    *os.File
	// torn: the file ends in part of a line (a crash, or a failed append
	// that could not cut it off); the next record starts on a fresh line.
	torn bool
}

// Path returns the file's path when it was created or opened. Archiving
// renames the file; appending through the File goes on working.
func (r *File) Path() string { return r.path }

// endsMidLine reports whether the file's last line lacks its newline: a
// crash or a full disk cut it short.
func (r *File) endsMidLine() (bool, error) {
	fi, err := r.f.Stat()
	if err != nil || fi.Size() == 0 {
		return false, err
	}
	last := make([]byte, 1)
	if _, err := r.f.ReadAt(last, fi.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}

// Append writes rec as one line with a single write, so that concurrent
// appenders (O_APPEND, this or another process) never interleave within a
// line. With sync it also fsyncs, which callers do at item and turn
// boundaries. A record of type thread is refused: Create writes it.
func (r *File) Append(rec Record, sync bool) error {
	if rec.Type == RecordThread || rec.Type == recordTornLine {
		return fmt.Errorf("rollout %s: %s records cannot be appended", r.id, rec.Type)
	}
	line, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("rollout %s: %w", r.id, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return fmt.Errorf("rollout %s: %w", r.id, os.ErrClosed)
	}
	if r.torn {
		line = append([]byte{'\n'}, line...)
	}
	if err := r.write(line); err != nil {
		return fmt.Errorf("rollout %s: %w", r.id, err)
	}
	r.torn = false
	if sync {
		if err := r.f.Sync(); err != nil {
			return fmt.Errorf("rollout %s: %w", r.id, err)
		}
	}
	return nil
}

// write appends line with one write. When the write fails part way (a
// full disk), it cuts the file back to where it was, so that the fragment
// is not glued to the next record; when it cannot (the size is not what
// this write left: another process appended meanwhile), the next record
// starts on a fresh line and Load skips the fragment.
func (r *File) write(line []byte) error {
	before, statErr := r.f.Stat()
	n, err := r.f.Write(line)
	if err == nil || n == 0 {
		return err
	}
	after, err2 := r.f.Stat()
	if statErr != nil || err2 != nil || after.Size() != before.Size()+int64(n) || r.f.Truncate(before.Size()) != nil {
		r.torn = true
	}
	return err
}

// Close closes the file. Appending afterwards fails; closing twice is a
// no-op.
func (r *File) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

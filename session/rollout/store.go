package rollout

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/google/uuid"
)

// Store keeps the rollouts of a home directory. Its methods are safe for
// concurrent use, also by several processes on the same home: files are
// only created exclusively, appended to with O_APPEND one whole line per
// write, and renamed. Every method blocks on file I/O.
type Store struct {
	threadsDir, archivedDir string
	// Logger receives what Load and List skip (torn or corrupt lines,
	// unreadable files). If nil, slog.Default() is used. Set it before use.
	Logger *slog.Logger
}

// OpenStore returns the store rooted at home, creating home/threads and
// home/archived if needed.
func OpenStore(home string) (*Store, error) {
	s := &Store{
		threadsDir:  filepath.Join(home, rolloutDirThreads),
		archivedDir: filepath.Join(home, rolloutDirArchived),
	}
	for _, d := range []string{s.threadsDir, s.archivedDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("rollout: %w", err)
		}
	}
	return s, nil
}

func (s *Store) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// parseFileID reads a thread id from a file name: only the canonical form
// of a UUID (36 lowercase characters), which is the name Create gives.
func parseFileID(name string) (uuid.UUID, bool) {
	u, err := uuid.Parse(name)
	return u, err == nil && u.String() == name
}

// path is the thread's file; the id's canonical form never names another
// directory.
func (s *Store) path(id uuid.UUID, archived bool) string {
	dir := s.threadsDir
	if archived {
		dir = s.archivedDir
	}
	return filepath.Join(dir, id.String()+rolloutExt)
}

// Exists reports whether the thread has a rollout, and whether it is
// archived.
func (s *Store) Exists(id uuid.UUID) (archived bool, ok bool) {
	if _, err := os.Lstat(s.path(id, false)); err == nil {
		return false, true
	}
	if _, err := os.Lstat(s.path(id, true)); err == nil {
		return true, true
	}
	return false, false
}

// find returns the rollout's path, or ErrThreadNotFound.
func (s *Store) find(id uuid.UUID) (path string, archived bool, err error) {
	archived, ok := s.Exists(id)
	if !ok {
		return "", false, fmt.Errorf("%w: %s", ErrThreadNotFound, id)
	}
	return s.path(id, archived), archived, nil
}

// Create starts the rollout of a new thread with its thread record, synced
// to disk (file and directory) before it returns. It fails with
// ErrThreadExists if the id is taken, archived or not.
func (s *Store) Create(meta ThreadMeta) (*File, error) {
	if _, ok := s.Exists(meta.ID); ok {
		return nil, fmt.Errorf("%w: %s", ErrThreadExists, meta.ID)
	}
	line, err := encodeRecord(Record{Type: RecordThread, Version: rolloutVersion, Thread: &meta})
	if err != nil {
		return nil, fmt.Errorf("rollout %s: %w", meta.ID, err)
	}
	path := s.path(meta.ID, false)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s", ErrThreadExists, meta.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(s.threadsDir)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("rollout: create rollout %s: %w", meta.ID, err)
	}
	return &File{id: meta.ID, path: path, f: f}, nil
}

// Open opens an existing rollout, archived or not, for appending (after a
// resume). If the file does not end with a newline, a crash cut its last
// line short: the next record starts on a fresh line, so that it is not
// glued to the fragment, which Load skips. Open writes nothing.
func (s *Store) Open(id uuid.UUID) (*File, error) {
	path, _, err := s.find(id)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	r := &File{id: id, path: path, f: f}
	if r.torn, err = r.endsMidLine(); err != nil {
		f.Close()
		return nil, fmt.Errorf("rollout: open rollout %s: %w", id, err)
	}
	return r, nil
}

// syncDir fsyncs a directory, so that a file created or renamed in it
// survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Archive moves a thread's rollout to <home>/archived. It fails with
// ErrAlreadyArchived or ErrThreadNotFound.
func (s *Store) Archive(id uuid.UUID) error { return s.move(id, false) }

// Unarchive moves a thread's rollout back to <home>/threads. It fails with
// ErrNotArchived or ErrThreadNotFound.
func (s *Store) Unarchive(id uuid.UUID) error { return s.move(id, true) }

// move renames the rollout out of the archived state given. The checks and
// the rename are separate steps: two servers archiving the same thread at
// the same instant could both succeed, which leaves one file in place.
func (s *Store) move(id uuid.UUID, fromArchived bool) error {
	archived, ok := s.Exists(id)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s", ErrThreadNotFound, id)
	case archived != fromArchived && archived:
		return fmt.Errorf("%w: %s", ErrAlreadyArchived, id)
	case archived != fromArchived:
		return fmt.Errorf("%w: %s", ErrNotArchived, id)
	}
	src, dst := s.path(id, fromArchived), s.path(id, !fromArchived)
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("rollout: thread %s is both archived and not: %s and %s exist", id, src, dst)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("rollout: %w", err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("rollout: %w", err)
	}
	return syncDir(filepath.Dir(src))
}

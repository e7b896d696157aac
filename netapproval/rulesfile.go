package netapproval

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// The rules file, <home>/rules.toml, holds sections that different
// packages own: this package the [[network]] rules (Rules), package session
// the [[command]] rules. Each owner reads and rewrites the whole file with
// its own shape F, a struct whose fields are the file's top-level sections:
// its own section typed, the others' kept as read ([]map[string]any), so
// that a rewrite by one owner preserves the other's rules. Every rewrite
// happens in EditRulesFile, under one lock file, from a fresh read: two
// servers on one home, or two owners in one server, never lose each other's
// rules.

const rulesHeader = "# Persisted network and command rules of app-server.\n" +
	"# app-server rewrites this file atomically; rules added by hand are kept, comments are not.\n\n"

// ReadRulesFile decodes the rules file at path into a new F; a missing file
// is an empty F. It also returns the text read, for RulesEntryError. A file
// that does not parse, or has a key F does not know, is an error naming the
// file and line.
func ReadRulesFile[F any](path string) (*F, []byte, error) {
	f := new(F)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read rules file: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, nil, fmt.Errorf("rules file %s line %d: %s", path, line, strings.TrimPrefix(de.Error(), "toml: "))
		}
		var se *toml.StrictMissingError
		if errors.As(err, &se) && len(se.Errors) > 0 {
			line, _ := se.Errors[0].Position()
			return nil, nil, fmt.Errorf("rules file %s line %d: unknown key %s", path, line, strings.Join(se.Errors[0].Key(), "."))
		}
		return nil, nil, fmt.Errorf("rules file %s: %w", path, err)
	}
	return f, data, nil
}

// EditRulesFile is the one way the rules file changes. Holding the
// exclusive lock on path+".lock", it reads the file afresh (another server
// may have written it since) and calls edit with it and its text; when edit
// reports a change, the file is rewritten atomically from f. An error from
// edit leaves the file as it was.
func EditRulesFile[F any](path string, edit func(f *F, raw []byte) (changed bool, err error)) error {
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return err
	}
	defer lock.unlock()
	f, raw, err := ReadRulesFile[F](path)
	if err != nil {
		return err
	}
	changed, err := edit(f, raw)
	if err != nil || !changed {
		return err
	}
	data, err := toml.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return writeFileAtomic(path, append([]byte(rulesHeader), data...))
}

// RulesEntryError is err about the index-th [[table]] entry of the rules
// file at path, naming the file and, when the entry's header can be found
// in raw (the text ReadRulesFile returned), its line.
func RulesEntryError(path string, raw []byte, table string, index int, err error) error {
	header := "[[" + table + "]]"
	seen := 0
	for n, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), header) {
			if seen == index {
				return fmt.Errorf("rules file %s line %d: %s entry %d: %w", path, n+1, table, index+1, err)
			}
			seen++
		}
	}
	return fmt.Errorf("rules file %s: %s entry %d: %w", path, table, index+1, err)
}

// writeFileAtomic replaces path with data so that readers and crashes see
// either the old or the new content, never a truncated file.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	// The rename is durable only once the directory entry is synced.
	d, derr := os.Open(dir)
	if derr != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync() // best effort: some filesystems refuse fsync on directories
	return nil
}

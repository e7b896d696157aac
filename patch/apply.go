package patch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Change is one file operation resolved against the file system: what the
// file holds now and what it will hold.
type Change struct {
	Kind Kind
	// Path is the absolute path of the file; MoveTo the absolute new path
	// of a moved file ("" otherwise).
	Path   string
	MoveTo string
	// Old is the file's content before (empty for Add), New after (empty
	// for Delete).
	Old, New string
	// Diff shows the change: for Update a unified diff (@@ hunks, no file
	// headers); for Add the new content; for Delete the old content (as
	// Codex reports them).
	Diff string
}

// ApplyError says which file of a patch does not apply and why.
type ApplyError struct {
	Path string
	Msg  string
}

func (e *ApplyError) Error() string { return e.Path + ": " + e.Msg }

// Plan resolves ops against the files under cwd (relative paths are
// relative to it): it reads every file an op touches and computes its new
// content. An error means the patch does not apply; nothing is written.
func Plan(cwd string, ops []FileOp) ([]Change, error) {
	out := make([]Change, 0, len(ops))
	for _, op := range ops {
		c := Change{Kind: op.Kind, Path: resolve(cwd, op.Path)}
		if op.MoveTo != "" {
			c.MoveTo = resolve(cwd, op.MoveTo)
		}
		switch op.Kind {
		case Add:
			if st, err := os.Stat(c.Path); err == nil && st.IsDir() {
				return nil, &ApplyError{c.Path, "cannot add a file: a directory of that name exists"}
			}
			c.New = joinLines(op.Lines)
			c.Diff = c.New
		case Delete:
			old, err := readFile(c.Path)
			if err != nil {
				return nil, err
			}
			c.Old, c.Diff = old, old
		case Update:
			old, err := readFile(c.Path)
			if err != nil {
				return nil, err
			}
			lines := splitLines(old)
			reps, err := locate(c.Path, lines, op.Chunks)
			if err != nil {
				return nil, err
			}
			c.Old = old
			c.New = joinLines(replace(lines, reps))
			c.Diff = unifiedDiff(lines, reps)
		}
		out = append(out, c)
	}
	return out, nil
}

// Apply writes the changes in order, each file atomically: a reader sees
// a file's old or new content, never a mix. Directories of new files are
// created. A failure stops at the failing file; the files before it are
// changed.
func Apply(changes []Change) error {
	for _, c := range changes {
		var err error
		switch c.Kind {
		case Add:
			err = writeAtomic(c.Path, c.New, 0o644)
		case Delete:
			err = os.Remove(c.Path)
		case Update:
			mode := fs.FileMode(0o644)
			if st, serr := os.Stat(c.Path); serr == nil {
				mode = st.Mode().Perm()
			}
			dst := c.Path
			if c.MoveTo != "" {
				dst = c.MoveTo
			}
			if err = writeAtomic(dst, c.New, mode); err == nil && c.MoveTo != "" && c.MoveTo != c.Path {
				err = os.Remove(c.Path)
			}
		}
		if err != nil {
			return &ApplyError{c.Path, err.Error()}
		}
	}
	return nil
}

func resolve(cwd, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(cwd, p)
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &ApplyError{path, "file does not exist"}
	}
	if err != nil {
		return "", &ApplyError{path, err.Error()}
	}
	return string(b), nil
}

// writeAtomic writes content to a temporary file next to path, fsyncs it
// and renames it over path.
func writeAtomic(path, content string, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".patch-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// splitLines splits content into lines without their "\n"; a final line
// ending is not an extra empty line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// joinLines is the file content of lines, each ending with "\n".
func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// replacement replaces n lines at start with repl.
type replacement struct {
	start, n int
	repl     []string
}

// locate finds each chunk in lines, in order: after its context line when
// it has one, then the old lines, matched exactly, then ignoring trailing
// blanks, then ignoring surrounding blanks (models often get whitespace
// wrong).
func locate(path string, lines []string, chunks []Chunk) ([]replacement, error) {
	var reps []replacement
	pos := 0
	for _, c := range chunks {
		if c.Context != "" {
			i := seek(lines, []string{c.Context}, pos, false)
			if i < 0 {
				return nil, &ApplyError{path, fmt.Sprintf("context line %q not found", c.Context)}
			}
			pos = i + 1
		}
		if len(c.Old) == 0 {
			at := len(lines)
			if c.Context != "" {
				at = pos
			}
			reps = append(reps, replacement{at, 0, c.New})
			continue
		}
		old, repl := c.Old, c.New
		i := seek(lines, old, pos, c.AtEOF)
		if i < 0 && old[len(old)-1] == "" {
			// A trailing empty line in the chunk stands for the file's end.
			old = old[:len(old)-1]
			if len(repl) > 0 && repl[len(repl)-1] == "" {
				repl = repl[:len(repl)-1]
			}
			i = seek(lines, old, pos, c.AtEOF)
		}
		if i < 0 {
			return nil, &ApplyError{path, fmt.Sprintf("lines to replace not found:\n%s", strings.Join(c.Old, "\n"))}
		}
		reps = append(reps, replacement{i, len(old), repl})
		pos = i + len(old)
	}
	return reps, nil
}

// seek returns the first index >= from where pattern matches lines, or -1.
// With atEOF, a match at the very end is tried first.
func seek(lines, pattern []string, from int, atEOF bool) int {
	norms := []func(string) string{
		func(s string) string { return s },
		func(s string) string { return strings.TrimRight(s, " \t") },
		strings.TrimSpace,
	}
	for _, norm := range norms {
		match := func(at int) bool {
			for j, p := range pattern {
				if norm(lines[at+j]) != norm(p) {
					return false
				}
			}
			return true
		}
		if atEOF {
			if at := len(lines) - len(pattern); at >= from && match(at) {
				return at
			}
		}
		for at := from; at+len(pattern) <= len(lines); at++ {
			if match(at) {
				return at
			}
		}
	}
	return -1
}

// replace applies reps (in increasing, non-overlapping order) to lines.
func replace(lines []string, reps []replacement) []string {
	out := make([]string, 0, len(lines))
	prev := 0
	for _, r := range reps {
		out = append(out, lines[prev:r.start]...)
		out = append(out, r.repl...)
		prev = r.start + r.n
	}
	return append(out, lines[prev:]...)
}

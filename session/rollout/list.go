package rollout

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// ThreadSummary is what List tells about a thread without reading its turns.
type ThreadSummary struct {
	// Meta is the thread record with the meta records written before the
	// thread's first item applied (later ones are only seen by Load).
	Meta ThreadMeta
	// UpdatedAt is the file's modification time, unix seconds.
	UpdatedAt int64
	Archived  bool
	Path      string
}

// List returns a page of threads, archived or not, newest first, and the
// cursor of the next page ("" on the last). Thread ids are UUIDv7, so
// their order is creation order; List sorts by id and pages by the last id
// returned, so a page does not shift when threads are created or archived
// meanwhile. limit is 25 when not positive and at most 100. A cursor that
// List did not return fails with ErrBadCursor.
//
// List reads the directory and, per thread returned, the first lines of
// its file. A file whose first line cannot be read is skipped with a log.
func (s *Store) List(archived bool, cursor string, limit int) ([]ThreadSummary, string, error) {
	if limit <= 0 {
		limit = listDefaultLimit
	}
	limit = min(limit, listMaxLimit)
	var before uuid.UUID
	if cursor != "" {
		id, err := decodeListCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		before = id
	}
	dir := s.threadsDir
	if archived {
		dir = s.archivedDir
	}
	entries, err := os.ReadDir(dir) // sorted by name, so by id
	if err != nil {
		return nil, "", fmt.Errorf("rollout: %w", err)
	}
	out := []ThreadSummary{}
	for i := len(entries) - 1; i >= 0; i-- {
		name, ok := strings.CutSuffix(entries[i].Name(), rolloutExt)
		id, canonical := parseFileID(name)
		if !ok || !canonical || !entries[i].Type().IsRegular() {
			continue
		}
		// UUIDv7 ids order by creation time, byte for byte.
		if before != uuid.Nil && bytes.Compare(id[:], before[:]) >= 0 {
			continue
		}
		if len(out) == limit {
			return out, encodeListCursor(out[len(out)-1].Meta.ID), nil
		}
		path := filepath.Join(dir, entries[i].Name())
		sum, err := readSummary(path, id)
		if err != nil {
			s.log().Warn("rollout: skipping a thread in the list", "file", path, "err", err)
			continue
		}
		sum.Archived = archived
		out = append(out, sum)
	}
	return out, "", nil
}

// listCursorPrefix versions the cursor format.
const listCursorPrefix = "v1:"

func encodeListCursor(id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(listCursorPrefix + id.String()))
}

func decodeListCursor(c string) (uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	name, ok := strings.CutPrefix(string(b), listCursorPrefix)
	id, canonical := parseFileID(name)
	if err != nil || !ok || !canonical {
		return uuid.Nil, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return id, nil
}

// readSummary reads the thread record and the meta records that follow
// before the first item. Lines are recognized by their prefix, so an item
// line (possibly holding a MiB of output) is never read.
func readSummary(path string, id uuid.UUID) (ThreadSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return ThreadSummary{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ThreadSummary{}, err
	}
	lr := lineReader{r: bufio.NewReader(f)}
	line, lineNo, err := lr.next()
	if err == io.EOF {
		return ThreadSummary{}, errors.New("empty file")
	}
	if err != nil {
		return ThreadSummary{}, err
	}
	rec, err := decodeRecord(line, lineNo)
	if err != nil {
		return ThreadSummary{}, err
	}
	if rec.Type != RecordThread || rec.Thread.ID != id || rec.Version > rolloutVersion {
		return ThreadSummary{}, fmt.Errorf("line 1 is not a thread record for %s of a known version", id)
	}
	sum := ThreadSummary{Meta: *rec.Thread, UpdatedAt: fi.ModTime().Unix(), Path: path}
	metaPrefix := []byte(`{"type":"` + RecordMeta + `"`)
	turnPrefix := []byte(`{"type":"` + RecordTurnStarted + `"`)
	// A handful of small lines come before the first item; the bound only
	// guards against a file of nothing but meta records.
	for range 64 {
		head, _ := lr.r.Peek(len(turnPrefix))
		if !bytes.HasPrefix(head, metaPrefix) && !bytes.HasPrefix(head, turnPrefix) {
			break
		}
		line, lineNo, err := lr.next()
		if err != nil {
			break
		}
		if rec, err := decodeRecord(line, lineNo); err == nil && rec.Type == RecordMeta {
			rec.Meta.apply(&sum.Meta)
		}
	}
	return sum, nil
}

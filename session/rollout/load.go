package rollout

import (
	"app-server/protocol"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"
)

// LoadedThread is a thread rebuilt from its rollout.
type LoadedThread struct {
	// Meta is the thread record with every later meta record applied.
	Meta ThreadMeta
	// Turns holds every turn with its items (ItemsView full). A turn that
	// has no turnCompleted record (the server stopped during it) is
	// interrupted, and a command item it left in progress failed.
	Turns []protocol.Turn
	// UpdatedAt is the file's modification time, unix seconds.
	UpdatedAt int64
	Archived  bool
	Path      string
	// ModelInput is the conversation the thread's model has seen, in
	// order (its modelInput records).
	ModelInput []json.RawMessage
}

// Load rebuilds a thread, archived or not. A line that does not parse
// (what a crash or a full disk leaves behind) is skipped with a logged
// warning naming the file and the line; only a first line that is not a
// thread record of a known version, or a file that cannot be read, is an
// error.
func (s *Store) Load(id uuid.UUID) (*LoadedThread, error) {
	path, archived, err := s.find(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}

	b := threadBuilder{turnIndex: make(map[string]int), itemIndex: make(map[[2]string]int)}
	lr := lineReader{r: bufio.NewReaderSize(f, 64<<10)}
	sawThread := false
	for {
		line, lineNo, err := lr.next()
		if err == io.EOF {
			break
		}
		var rec Record
		if err == nil {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			rec, err = decodeRecord(line, lineNo)
		}
		if err != nil && (!sawThread || errors.Is(err, errRead)) {
			return nil, fmt.Errorf("rollout: %s: %w", path, err)
		}
		if err != nil {
			// What a crash or a full disk left: the lines around it are
			// whole, and the thread is still worth reading.
			s.log().Warn("rollout: skipping a line that does not parse", "file", path, "err", err)
			continue
		}
		if rec.Type == recordTornLine {
			continue
		}
		if !sawThread {
			if rec.Type != RecordThread {
				return nil, fmt.Errorf("rollout: %s: line %d: the first record is %s, not thread", path, lineNo, rec.Type)
			}
			if rec.Version > rolloutVersion {
				return nil, fmt.Errorf("rollout: %s: format version %d is newer than this server's (%d)", path, rec.Version, rolloutVersion)
			}
			if rec.Thread.ID != id {
				return nil, fmt.Errorf("rollout: %s: the thread record names thread %s", path, rec.Thread.ID)
			}
			b.meta, sawThread = *rec.Thread, true
			continue
		}
		if err := b.apply(rec); err != nil {
			s.log().Warn("rollout: skipping a record", "file", path, "line", lineNo, "err", err)
		}
	}
	if !sawThread {
		return nil, fmt.Errorf("rollout: %s: no thread record", path)
	}
	return &LoadedThread{
		Meta:       b.meta,
		Turns:      b.finish(),
		UpdatedAt:  fi.ModTime().Unix(),
		Archived:   archived,
		Path:       path,
		ModelInput: b.modelInput,
	}, nil
}

func decodeRecord(line []byte, lineNo int) (Record, error) {
	var rec Record
	err := json.Unmarshal(line, &rec)
	if err == nil {
		err = rec.check()
	}
	if err != nil {
		return Record{}, fmt.Errorf("line %d: %w", lineNo, err)
	}
	return rec, nil
}

// threadBuilder applies records to a thread being rebuilt.
type threadBuilder struct {
	meta       ThreadMeta
	turns      []protocol.Turn
	turnIndex  map[string]int    // turn id -> index in turns
	itemIndex  map[[2]string]int // (turn id, item id) -> index in the turn's items
	modelInput []json.RawMessage
}

func (b *threadBuilder) apply(rec Record) error {
	switch rec.Type {
	case RecordThread:
		return errors.New("a second thread record")
	case RecordMeta:
		rec.Meta.apply(&b.meta)
	case RecordTurnStarted:
		if _, ok := b.turnIndex[rec.Turn.ID]; !ok {
			b.turn(rec.Turn.ID).StartedAt = rec.Turn.StartedAt
		}
	case RecordItemStarted, RecordItemCompleted:
		t := b.turn(rec.TurnID.String())
		key := [2]string{rec.TurnID.String(), rec.Item.ID()}
		if i, ok := b.itemIndex[key]; ok {
			t.Items[i] = *rec.Item
		} else {
			b.itemIndex[key] = len(t.Items)
			t.Items = append(t.Items, *rec.Item)
		}
	case RecordItemOutput:
		i, ok := b.itemIndex[[2]string{rec.TurnID.String(), rec.ItemID}]
		if !ok {
			break
		}
		c := b.turn(rec.TurnID.String()).Items[i].CommandExecution
		if c != nil && c.Status == protocol.CommandInProgress {
			out := rec.Delta
			if c.AggregatedOutput != nil {
				out = *c.AggregatedOutput + out
			}
			c.AggregatedOutput = &out
		}
	case RecordModelInput:
		b.modelInput = append(b.modelInput, rec.Input...)
	case RecordTurnCompleted:
		t := b.turn(rec.Turn.ID)
		items := t.Items
		*t = *rec.Turn
		t.Items, t.ItemsView = items, protocol.ItemsFull
	}
	return nil
}

// turn returns the turn with id, adding it in progress if it is new: the
// records of a turn whose turnStarted is missing are kept rather than
// refused, since the thread is still worth reading.
func (b *threadBuilder) turn(id string) *protocol.Turn {
	i, ok := b.turnIndex[id]
	if !ok {
		i = len(b.turns)
		b.turnIndex[id] = i
		b.turns = append(b.turns, protocol.Turn{
			ID: id, Items: []protocol.ThreadItem{}, ItemsView: protocol.ItemsFull, Status: protocol.TurnInProgress,
		})
	}
	return &b.turns[i]
}

// finish settles what a crash left running: nothing runs in a thread that
// has just been loaded.
func (b *threadBuilder) finish() []protocol.Turn {
	for i := range b.turns {
		t := &b.turns[i]
		if t.Status == protocol.TurnInProgress {
			t.Status = protocol.TurnInterrupted
		}
		for _, it := range t.Items {
			if c := it.CommandExecution; c != nil && c.Status == protocol.CommandInProgress {
				c.Status = protocol.CommandFailed
			}
		}
	}
	if b.turns == nil {
		return []protocol.Turn{}
	}
	return b.turns
}

// lineReader reads the lines of a rollout with their numbers.
type lineReader struct {
	r   *bufio.Reader
	buf []byte
	n   int
}

// errRead wraps a failure to read the file, as opposed to a line that
// does not parse.
var errRead = errors.New("reading")

// next returns the next line without its newline; the last line may lack
// one. A line longer than maxRolloutLine is read past and reported as an
// error of its own (no record is that long). A failure to read wraps
// errRead. io.EOF ends.
func (lr *lineReader) next() ([]byte, int, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if !tooLong && len(lr.buf)+len(chunk) > maxRolloutLine {
			tooLong, lr.buf = true, lr.buf[:0]
		}
		if !tooLong {
			lr.buf = append(lr.buf, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(lr.buf) == 0 && !tooLong:
			return nil, lr.n, io.EOF
		case err != nil && err != io.EOF:
			return nil, lr.n + 1, fmt.Errorf("%w line %d: %w", errRead, lr.n+1, err)
		}
		lr.n++
		if tooLong {
			return nil, lr.n, fmt.Errorf("line %d is longer than %d bytes", lr.n, maxRolloutLine)
		}
		return bytes.TrimSuffix(lr.buf, []byte{'\n'}), lr.n, nil
	}
}

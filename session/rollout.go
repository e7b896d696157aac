package session

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"app-server/protocol"

	"github.com/google/uuid"
)

// Rollout files: <home>/threads/<id>.jsonl and <home>/archived/<id>.jsonl,
// one JSON record per line, appended and never rewritten.
//
// The records (Record) are, in file order:
//
//	{"type":"thread","version":1,"thread":{ThreadMeta}}        first line, written by Create
//	{"type":"meta","meta":{MetaUpdate}}                        a settings change
//	{"type":"turnStarted","turn":{Turn, inProgress, no items}}
//	{"type":"itemStarted","turnId":...,"item":{ThreadItem}}    optional
//	{"type":"itemCompleted","turnId":...,"item":{ThreadItem}}
//	{"type":"turnCompleted","turn":{Turn, final, no items}}
//	{"type":"tornLine"}                                        written by Open after a crash
//
// A thread is rebuilt by applying them in order: meta records overwrite the
// fields they carry, items are kept per turn in the order they first
// appear (itemCompleted replaces an itemStarted of the same id), and
// turnCompleted sets the turn's final status, error and times.
const (
	rolloutDirThreads  = "threads"
	rolloutDirArchived = "archived"
	rolloutExt         = ".jsonl"
	// rolloutVersion is written in the thread record; Load refuses files
	// from a newer format rather than misreading them.
	rolloutVersion = 1
	// maxRolloutLine bounds one line in memory when reading. An item holds
	// at most a 1 MiB output tail, which JSON escaping can grow about six
	// times; anything far beyond that is not a line we wrote.
	maxRolloutLine = 64 << 20
	// List page sizes.
	listDefaultLimit = 25
	listMaxLimit     = 100
)

// Errors of Store, to be matched with errors.Is.
var (
	ErrThreadNotFound  = errors.New("thread not found")
	ErrThreadExists    = errors.New("thread already exists")
	ErrAlreadyArchived = errors.New("thread is already archived")
	ErrNotArchived     = errors.New("thread is not archived")
	ErrBadThreadID     = errors.New("invalid thread id")
	ErrBadCursor       = errors.New("invalid cursor")
)

// RecordType tags a Record.
type RecordType string

const (
	RecordThread        RecordType = "thread"
	RecordMeta          RecordType = "meta"
	RecordTurnStarted   RecordType = "turnStarted"
	RecordItemStarted   RecordType = "itemStarted"
	RecordItemCompleted RecordType = "itemCompleted"
	RecordTurnCompleted RecordType = "turnCompleted"
	// recordTornLine follows a line that a crash cut short: Open writes it
	// so that the fragment, now ended by a newline, is skipped by Load
	// instead of being taken for corruption in the middle of the file.
	recordTornLine RecordType = "tornLine"
)

// ThreadMeta is what a rollout's first line says about its thread.
type ThreadMeta struct {
	ID string `json:"id"`
	// CreatedAt is in unix seconds.
	CreatedAt int64  `json:"createdAt"`
	Cwd       string `json:"cwd"`
	// ApprovalPolicy and Sandbox are omitted when empty (unset).
	ApprovalPolicy protocol.AskForApproval `json:"approvalPolicy,omitempty"`
	Sandbox        protocol.SandboxMode    `json:"sandbox,omitempty"`
	// Model is the agent ("shell").
	Model         string `json:"model"`
	ModelProvider string `json:"modelProvider"`
	Preview       string `json:"preview"`
	CLIVersion    string `json:"cliVersion"`
}

// MetaUpdate changes the thread's settings; nil fields stay as they were.
type MetaUpdate struct {
	Cwd            *string                  `json:"cwd,omitempty"`
	ApprovalPolicy *protocol.AskForApproval `json:"approvalPolicy,omitempty"`
	Sandbox        *protocol.SandboxMode    `json:"sandbox,omitempty"`
	Preview        *string                  `json:"preview,omitempty"`
}

func (u MetaUpdate) apply(m *ThreadMeta) {
	if u.Cwd != nil {
		m.Cwd = *u.Cwd
	}
	if u.ApprovalPolicy != nil {
		m.ApprovalPolicy = *u.ApprovalPolicy
	}
	if u.Sandbox != nil {
		m.Sandbox = *u.Sandbox
	}
	if u.Preview != nil {
		m.Preview = *u.Preview
	}
}

// Record is one line of a rollout. Build it with the constructors below;
// which fields are set depends on Type.
type Record struct {
	// Type comes first on purpose: List recognizes a line by its prefix.
	Type RecordType `json:"type"`
	// Version is the format version, in the thread record.
	Version int         `json:"version,omitempty"`
	Thread  *ThreadMeta `json:"thread,omitempty"`
	Meta    *MetaUpdate `json:"meta,omitempty"`
	// TurnID and Item: itemStarted, itemCompleted.
	TurnID string               `json:"turnId,omitempty"`
	Item   *protocol.ThreadItem `json:"item,omitempty"`
	// Turn: turnStarted, turnCompleted. Its items are not written; they
	// have records of their own.
	Turn *protocol.Turn `json:"turn,omitempty"`
}

// MetaRecord records a settings change (for example the preview, once the
// first user message is known). List sees only the meta records written
// before the thread's first item, so record the preview no later than the
// first itemStarted or itemCompleted; Load sees them all.
func MetaRecord(u MetaUpdate) Record { return Record{Type: RecordMeta, Meta: &u} }

// TurnStartedRecord records the start of a turn; startedAt is unix seconds.
func TurnStartedRecord(turnID string, startedAt int64) Record {
	return Record{Type: RecordTurnStarted, Turn: &protocol.Turn{
		ID: turnID, Items: []protocol.ThreadItem{}, ItemsView: protocol.ItemsNotLoaded,
		Status: protocol.TurnInProgress, StartedAt: &startedAt,
	}}
}

// ItemStartedRecord records an item in progress, so that a crash while it
// runs (a long command) leaves a trace of it. Optional.
func ItemStartedRecord(turnID string, item protocol.ThreadItem) Record {
	return Record{Type: RecordItemStarted, TurnID: turnID, Item: &item}
}

// ItemCompletedRecord records a finished item of a turn.
func ItemCompletedRecord(turnID string, item protocol.ThreadItem) Record {
	return Record{Type: RecordItemCompleted, TurnID: turnID, Item: &item}
}

// TurnCompletedRecord records how a turn ended. turn.Items is not written.
func TurnCompletedRecord(turn protocol.Turn) Record {
	return Record{Type: RecordTurnCompleted, Turn: &turn}
}

// check reports a record whose fields do not fit its type.
func (r Record) check() error {
	var ok bool
	switch r.Type {
	case RecordThread:
		ok = r.Thread != nil && checkRolloutID(r.Thread.ID) == nil
	case RecordMeta:
		ok = r.Meta != nil
	case RecordTurnStarted, RecordTurnCompleted:
		ok = r.Turn != nil && r.Turn.ID != ""
	case RecordItemStarted, RecordItemCompleted:
		ok = r.TurnID != "" && r.Item != nil && r.Item.ID() != ""
	case recordTornLine:
		ok = true
	default:
		return fmt.Errorf("unknown record type %q", r.Type)
	}
	if !ok {
		return fmt.Errorf("incomplete %s record", r.Type)
	}
	return nil
}

// encodeRecord returns rec as one line, newline included.
func encodeRecord(rec Record) ([]byte, error) {
	if err := rec.check(); err != nil {
		return nil, err
	}
	if rec.Turn != nil {
		t := *rec.Turn
		t.Items = []protocol.ThreadItem{}
		rec.Turn = &t
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	// Settings are decoded strictly (an unknown approval policy is an
	// error), so a bad value written now would make the thread unloadable
	// later: check that these small records read back.
	if rec.Type == RecordThread || rec.Type == RecordMeta {
		if _, err := decodeRecord(b, 0); err != nil {
			return nil, fmt.Errorf("record would not load back: %w", err)
		}
	}
	// json.Marshal escapes newlines inside strings, so b is one line.
	return append(b, '\n'), nil
}

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
			return nil, fmt.Errorf("session: %w", err)
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

// checkRolloutID accepts only the canonical form of a UUID (36 lowercase
// characters), so that an id from a client never becomes "../x", an
// absolute path or two names for one file.
func checkRolloutID(id string) error {
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return fmt.Errorf("%w: %q", ErrBadThreadID, id)
	}
	return nil
}

func (s *Store) path(id string, archived bool) string {
	dir := s.threadsDir
	if archived {
		dir = s.archivedDir
	}
	return filepath.Join(dir, id+rolloutExt)
}

// Exists reports whether the thread has a rollout, and whether it is
// archived. An invalid id does not exist.
func (s *Store) Exists(id string) (archived bool, ok bool) {
	if checkRolloutID(id) != nil {
		return false, false
	}
	if _, err := os.Lstat(s.path(id, false)); err == nil {
		return false, true
	}
	if _, err := os.Lstat(s.path(id, true)); err == nil {
		return true, true
	}
	return false, false
}

// find returns the rollout's path, or ErrThreadNotFound.
func (s *Store) find(id string) (path string, archived bool, err error) {
	if err := checkRolloutID(id); err != nil {
		return "", false, err
	}
	archived, ok := s.Exists(id)
	if !ok {
		return "", false, fmt.Errorf("%w: %s", ErrThreadNotFound, id)
	}
	return s.path(id, archived), archived, nil
}

// Rollout appends to one thread's file. Its methods are safe for
// concurrent use; Append blocks on the write, and on fsync when asked.
type Rollout struct {
	id   string
	path string
	mu   sync.Mutex // guards f, nil once closed
	f    *os.File
}

// ID returns the thread's id.
func (r *Rollout) ID() string { return r.id }

// Path returns the file's path when it was created or opened. Archiving
// renames the file; appending through the Rollout goes on working.
func (r *Rollout) Path() string { return r.path }

// Create starts the rollout of a new thread with its thread record, synced
// to disk (file and directory) before it returns. It fails with
// ErrThreadExists if the id is taken, archived or not.
func (s *Store) Create(meta ThreadMeta) (*Rollout, error) {
	if err := checkRolloutID(meta.ID); err != nil {
		return nil, err
	}
	if _, ok := s.Exists(meta.ID); ok {
		return nil, fmt.Errorf("%w: %s", ErrThreadExists, meta.ID)
	}
	line, err := encodeRecord(Record{Type: RecordThread, Version: rolloutVersion, Thread: &meta})
	if err != nil {
		return nil, fmt.Errorf("session: rollout %s: %w", meta.ID, err)
	}
	path := s.path(meta.ID, false)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s", ErrThreadExists, meta.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
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
		return nil, fmt.Errorf("session: create rollout %s: %w", meta.ID, err)
	}
	return &Rollout{id: meta.ID, path: path, f: f}, nil
}

// Open opens an existing rollout, archived or not, for appending (after a
// resume). If the file does not end with a newline, a crash cut its last
// line short: Open ends that line and writes a tornLine record after it,
// so Load skips the fragment, and so the next record is not glued to it.
func (s *Store) Open(id string) (*Rollout, error) {
	path, _, err := s.find(id)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	r := &Rollout{id: id, path: path, f: f}
	if err := r.endTornLine(); err != nil {
		f.Close()
		return nil, fmt.Errorf("session: open rollout %s: %w", id, err)
	}
	return r, nil
}

func (r *Rollout) endTornLine() error {
	fi, err := r.f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := r.f.ReadAt(last, fi.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	marker, _ := encodeRecord(Record{Type: recordTornLine})
	// One write: with O_APPEND it lands whole after whatever is there.
	if _, err := r.f.Write(append([]byte{'\n'}, marker...)); err != nil {
		return err
	}
	return r.f.Sync()
}

// Append writes rec as one line with a single write, so that concurrent
// appenders (O_APPEND, this or another process) never interleave within a
// line. With sync it also fsyncs, which callers do at item and turn
// boundaries. A record of type thread is refused: Create writes it.
func (r *Rollout) Append(rec Record, sync bool) error {
	if rec.Type == RecordThread || rec.Type == recordTornLine {
		return fmt.Errorf("session: rollout %s: %s records cannot be appended", r.id, rec.Type)
	}
	line, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("session: rollout %s: %w", r.id, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return fmt.Errorf("session: rollout %s: %w", r.id, os.ErrClosed)
	}
	if _, err := r.f.Write(line); err != nil {
		return fmt.Errorf("session: rollout %s: %w", r.id, err)
	}
	if sync {
		if err := r.f.Sync(); err != nil {
			return fmt.Errorf("session: rollout %s: %w", r.id, err)
		}
	}
	return nil
}

// Close closes the file. Appending afterwards fails; closing twice is a
// no-op.
func (r *Rollout) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

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
}

// Load rebuilds a thread, archived or not. A last line that does not parse
// is what a crash during a write leaves: it is skipped with a log, as is a
// fragment that Open marked with a tornLine record. Any other line that
// does not parse is an error naming the file and the line.
func (s *Store) Load(id string) (*LoadedThread, error) {
	path, archived, err := s.find(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}

	b := threadBuilder{turnIndex: make(map[string]int), itemIndex: make(map[[2]string]int)}
	lr := lineReader{r: bufio.NewReaderSize(f, 64<<10)}
	// bad is a line that did not parse; it is forgiven only if it turns
	// out to be the last line or is followed by a tornLine record.
	var bad error
	sawThread := false
	for {
		line, lineNo, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("session: %s: %w", path, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, perr := decodeRecord(line, lineNo)
		if perr == nil && rec.Type == recordTornLine {
			if bad != nil {
				s.log().Warn("rollout: skipping a line cut short by a crash", "file", path, "err", bad)
			}
			bad = nil
			continue
		}
		if bad != nil {
			return nil, fmt.Errorf("session: %s: %w", path, bad)
		}
		if perr != nil {
			if !sawThread {
				return nil, fmt.Errorf("session: %s: %w", path, perr)
			}
			bad = perr
			continue
		}
		if !sawThread {
			if rec.Type != RecordThread {
				return nil, fmt.Errorf("session: %s: line %d: the first record is %s, not thread", path, lineNo, rec.Type)
			}
			if rec.Version > rolloutVersion {
				return nil, fmt.Errorf("session: %s: format version %d is newer than this server's (%d)", path, rec.Version, rolloutVersion)
			}
			if rec.Thread.ID != id {
				return nil, fmt.Errorf("session: %s: the thread record names thread %s", path, rec.Thread.ID)
			}
			b.meta, sawThread = *rec.Thread, true
			continue
		}
		if err := b.apply(rec); err != nil {
			return nil, fmt.Errorf("session: %s: line %d: %w", path, lineNo, err)
		}
	}
	if !sawThread {
		return nil, fmt.Errorf("session: %s: no thread record", path)
	}
	if bad != nil {
		s.log().Warn("rollout: ignoring a torn last line", "file", path, "err", bad)
	}
	return &LoadedThread{
		Meta:      b.meta,
		Turns:     b.finish(),
		UpdatedAt: fi.ModTime().Unix(),
		Archived:  archived,
		Path:      path,
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
	meta      ThreadMeta
	turns     []protocol.Turn
	turnIndex map[string]int    // turn id -> index in turns
	itemIndex map[[2]string]int // (turn id, item id) -> index in the turn's items
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
		t := b.turn(rec.TurnID)
		key := [2]string{rec.TurnID, rec.Item.ID()}
		if i, ok := b.itemIndex[key]; ok {
			t.Items[i] = *rec.Item
		} else {
			b.itemIndex[key] = len(t.Items)
			t.Items = append(t.Items, *rec.Item)
		}
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

// next returns the next line without its newline; the last line may lack
// one. A line longer than maxRolloutLine is an error. io.EOF ends.
func (lr *lineReader) next() ([]byte, int, error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(lr.buf)+len(chunk) > maxRolloutLine {
			return nil, lr.n + 1, fmt.Errorf("line %d is longer than %d bytes", lr.n+1, maxRolloutLine)
		}
		lr.buf = append(lr.buf, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(lr.buf) == 0:
			return nil, lr.n, io.EOF
		case err != nil && err != io.EOF:
			return nil, lr.n + 1, err
		}
		lr.n++
		return bytes.TrimSuffix(lr.buf, []byte{'\n'}), lr.n, nil
	}
}

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
	before := ""
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
		return nil, "", fmt.Errorf("session: %w", err)
	}
	out := []ThreadSummary{}
	for i := len(entries) - 1; i >= 0; i-- {
		id, ok := strings.CutSuffix(entries[i].Name(), rolloutExt)
		if !ok || checkRolloutID(id) != nil || !entries[i].Type().IsRegular() {
			continue
		}
		if before != "" && id >= before {
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

func encodeListCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(listCursorPrefix + id))
}

func decodeListCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	id, ok := strings.CutPrefix(string(b), listCursorPrefix)
	if err != nil || !ok || checkRolloutID(id) != nil {
		return "", fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return id, nil
}

// readSummary reads the thread record and the meta records that follow
// before the first item. Lines are recognized by their prefix, so an item
// line (possibly holding a MiB of output) is never read.
func readSummary(path, id string) (ThreadSummary, error) {
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
func (s *Store) Archive(id string) error { return s.move(id, false) }

// Unarchive moves a thread's rollout back to <home>/threads. It fails with
// ErrNotArchived or ErrThreadNotFound.
func (s *Store) Unarchive(id string) error { return s.move(id, true) }

// move renames the rollout out of the archived state given. The checks and
// the rename are separate steps: two servers archiving the same thread at
// the same instant could both succeed, which leaves one file in place.
func (s *Store) move(id string, fromArchived bool) error {
	if err := checkRolloutID(id); err != nil {
		return err
	}
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
		return fmt.Errorf("session: thread %s is both archived and not: %s and %s exist", id, src, dst)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return syncDir(filepath.Dir(src))
}

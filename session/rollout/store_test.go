package rollout

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"app-server/protocol"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
)

// roStore opens a store in a fresh home and returns it with the buffer
// its log goes to.
func roStore(t *testing.T) (*Store, *bytes.Buffer) {
	t.Helper()
	s, err := OpenStore(filepath.Join(t.TempDir(), "home"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&roLogWriter{w: &logs}, nil))
	return s, &logs
}

type roLogWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *roLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// Turn ids of the sample records.
var (
	turn1ID = uuid.MustParse("00000000-0000-7000-8000-000000000001")
	turn2ID = uuid.MustParse("00000000-0000-7000-8000-000000000002")
	turn3ID = uuid.MustParse("00000000-0000-7000-8000-000000000003")
)

func roNewID(t *testing.T) uuid.UUID {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func roMeta(id uuid.UUID) ThreadMeta {
	return ThreadMeta{
		ID: id, CreatedAt: 1700000000, Cwd: "/work", ApprovalPolicy: protocol.ApprovalUntrusted,
		Sandbox: protocol.SandboxWorkspaceWrite, Model: "shell", ModelProvider: "builtin", CLIVersion: "0.1.0",
	}
}

func ptrTo[T any](v T) *T { return &v }

func roUserItem(id, text string) protocol.ThreadItem {
	return protocol.ThreadItem{UserMessage: &protocol.UserMessageItem{
		ID: id, Content: []protocol.UserInput{{Text: &protocol.TextInput{Text: text, TextElements: []protocol.TextElement{}}}},
		StartedAtMs: ptrTo(int64(1700000001000)), CompletedAtMs: ptrTo(int64(1700000001000)),
	}}
}

func roCommandItem(id string, status protocol.CommandExecutionStatus, output *string) protocol.ThreadItem {
	return protocol.ThreadItem{CommandExecution: &protocol.CommandExecutionItem{
		ID: id, Command: "ls", Cwd: "/work", Source: protocol.SourceAgent, Status: status,
		CommandActions:   []protocol.CommandAction{{Unknown: &protocol.UnknownAction{Command: "ls"}}},
		AggregatedOutput: output, StartedAtMs: ptrTo(int64(1700000001000)),
	}}
}

func roAppend(t *testing.T, r *File, recs ...Record) {
	t.Helper()
	for _, rec := range recs {
		if err := r.Append(rec, true); err != nil {
			t.Fatal(err)
		}
	}
}

// roAppendRaw writes bytes at the end of a file, as a crash or another writer
// would leave them.
func roAppendRaw(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// roSampleThread writes two finished turns and returns what Load should
// rebuild from them.
func roSampleThread(t *testing.T, s *Store, id uuid.UUID) (*File, *LoadedThread) {
	t.Helper()
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	out := "a\nb\n"
	user1, cmdRun, cmdDone := roUserItem("u1", "ls"), roCommandItem("c1", protocol.CommandInProgress, nil), roCommandItem("c1", protocol.CommandCompleted, &out)
	cmdDone.CommandExecution.ExitCode = ptrTo(int32(0))
	turn1 := protocol.Turn{
		ID: turn1ID.String(), Items: []protocol.ThreadItem{user1, cmdDone}, // items must not be written with the turn
		ItemsView: protocol.ItemsFull, Status: protocol.TurnCompleted,
		StartedAt: ptrTo(int64(1700000001)), CompletedAt: ptrTo(int64(1700000002)), DurationMs: ptrTo(int64(1000)),
	}
	user2 := roUserItem("u2", "false")
	turn2 := protocol.Turn{
		ID: turn2ID.String(), ItemsView: protocol.ItemsFull, Status: protocol.TurnFailed,
		Error:     &protocol.TurnError{Message: "boom"},
		StartedAt: ptrTo(int64(1700000003)), CompletedAt: ptrTo(int64(1700000004)), DurationMs: ptrTo(int64(1000)),
	}
	roAppend(t, r,
		TurnStartedRecord(turn1ID, 1700000001),
		MetaRecord(MetaUpdate{Preview: ptrTo("ls")}),
		ItemCompletedRecord(turn1ID, user1),
		ItemStartedRecord(turn1ID, cmdRun),
		ItemCompletedRecord(turn1ID, cmdDone),
		TurnCompletedRecord(turn1),
		MetaRecord(MetaUpdate{Cwd: ptrTo("/other"), ApprovalPolicy: ptrTo(protocol.ApprovalNever)}),
		TurnStartedRecord(turn2ID, 1700000003),
		ItemCompletedRecord(turn2ID, user2),
		TurnCompletedRecord(turn2),
	)
	want := &LoadedThread{Meta: roMeta(id), Path: s.path(id, false)}
	want.Meta.Preview, want.Meta.Cwd, want.Meta.ApprovalPolicy = "ls", "/other", protocol.ApprovalNever
	turn2.Items = []protocol.ThreadItem{user2}
	want.Turns = []protocol.Turn{turn1, turn2}
	return r, want
}

func roLoadCompare(t *testing.T, s *Store, id uuid.UUID, want *LoadedThread) *LoadedThread {
	t.Helper()
	got, err := s.Load(id)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(LoadedThread{}, "UpdatedAt")); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	return got
}

func TestRolloutRoundTrip(t *testing.T) {
	s, _ := roStore(t)
	id := roNewID(t)
	r, want := roSampleThread(t, s, id)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got := roLoadCompare(t, s, id, want)

	fi, err := os.Stat(want.Path)
	if err != nil {
		t.Fatal(err)
	}
	if got.UpdatedAt != fi.ModTime().Unix() {
		t.Errorf("UpdatedAt = %d, want the mtime %d", got.UpdatedAt, fi.ModTime().Unix())
	}
	b, _ := os.ReadFile(want.Path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 11 {
		t.Errorf("%d lines, want 11", len(lines))
	}
	if !strings.HasPrefix(lines[0], `{"type":"thread","version":1,"thread":{"id":"`+id.String()+`"`) {
		t.Errorf("first line %s", lines[0])
	}
	if l := lines[6]; !strings.HasPrefix(l, `{"type":"turnCompleted","turn":{"id":"00000000-0000-7000-8000-000000000001"`) || !strings.Contains(l, `"items":[]`) {
		t.Errorf("turnCompleted line %s: want the turn without its items", l)
	}

	// Appending after Close fails; closing again is fine.
	if err := r.Append(MetaRecord(MetaUpdate{}), false); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRolloutAppendRefusesBadRecords(t *testing.T) {
	s, _ := roStore(t)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, rec := range map[string]Record{
		"thread":          {Type: RecordThread, Thread: ptrTo(roMeta(id))},
		"torn line":       {Type: recordTornLine},
		"unknown type":    {Type: "bogus"},
		"meta without":    {Type: RecordMeta},
		"turn without id": TurnStartedRecord(uuid.Nil, 1),
		"item no turn":    ItemCompletedRecord(uuid.Nil, roUserItem("u", "x")),
		"item no variant": ItemCompletedRecord(turn1ID, protocol.ThreadItem{}),
		"bad policy":      MetaRecord(MetaUpdate{ApprovalPolicy: ptrTo(protocol.AskForApproval("sometimes"))}),
	} {
		if err := r.Append(rec, false); err == nil {
			t.Errorf("%s: Append succeeded", name)
		}
	}
	b, _ := os.ReadFile(r.Path())
	if n := bytes.Count(b, []byte{'\n'}); n != 1 {
		t.Errorf("file has %d lines, want only the thread record", n)
	}
}

func TestRolloutTornLastLine(t *testing.T) {
	s, logs := roStore(t)
	id := roNewID(t)
	r, want := roSampleThread(t, s, id)
	r.Close()

	// A crash in the middle of a write leaves half a line.
	roAppendRaw(t, want.Path, `{"type":"itemCompleted","turnId":"00000000-0000-7000-8000-000000000003","item":{"type":"userMess`)
	roLoadCompare(t, s, id, want)
	if !strings.Contains(logs.String(), "skipping a line that does not parse") || !strings.Contains(logs.String(), "line 12") {
		t.Errorf("no log about the torn line: %q", logs.String())
	}
	if sums, _, err := s.List(false, "", 0); err != nil || len(sums) != 1 {
		t.Errorf("List = %v, %v; want the thread", sums, err)
	}

	// Resuming appends after the fragment without gluing to it.
	r, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	user3 := roUserItem("u3", "pwd")
	roAppend(t, r, TurnStartedRecord(turn3ID, 1700000005), ItemCompletedRecord(turn3ID, user3))
	r.Close()
	want.Turns = append(want.Turns, protocol.Turn{
		ID: turn3ID.String(), Items: []protocol.ThreadItem{user3}, ItemsView: protocol.ItemsFull,
		Status: protocol.TurnInterrupted, StartedAt: ptrTo(int64(1700000005)),
	})
	logs.Reset()
	roLoadCompare(t, s, id, want)
	if !strings.Contains(logs.String(), "line 12") {
		t.Errorf("no log about the skipped fragment: %q", logs.String())
	}

	// Opening a file that ends cleanly adds nothing.
	before, _ := os.ReadFile(want.Path)
	r, err = s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if after, _ := os.ReadFile(want.Path); !bytes.Equal(before, after) {
		t.Errorf("Open changed a clean file:\n%s", after[len(before):])
	}
}

// A line in the middle that does not parse costs that line only: the rest
// of the thread loads, and the log names the file and the line.
func TestRolloutCorruptMiddleLineIsSkipped(t *testing.T) {
	s, logs := roStore(t)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	roAppend(t, r, TurnStartedRecord(turn1ID, 1), ItemCompletedRecord(turn1ID, roUserItem("u1", "ls")))
	roAppendRaw(t, r.Path(), "{not json}\n")
	roAppend(t, r, TurnCompletedRecord(protocol.Turn{ID: turn1ID.String(), Status: protocol.TurnCompleted}))
	r.Close()

	got, err := s.Load(id)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(got.Turns) != 1 || got.Turns[0].Status != protocol.TurnCompleted || len(got.Turns[0].Items) != 1 {
		t.Errorf("turns around a corrupt line: %+v", got.Turns)
	}
	if !strings.Contains(logs.String(), r.Path()) || !strings.Contains(logs.String(), "line 4") {
		t.Errorf("log %q does not name %s and line 4", logs.String(), r.Path())
	}

	// A record that parses but breaks the format counts as corrupt too.
	id2 := roNewID(t)
	r2, _ := s.Create(roMeta(id2))
	roAppendRaw(t, r2.Path(), `{"type":"itemCompleted","turnId":"00000000-0000-7000-8000-000000000001"}`+"\n")
	roAppend(t, r2, TurnStartedRecord(turn1ID, 1))
	r2.Close()
	logs.Reset()
	if got, err := s.Load(id2); err != nil || len(got.Turns) != 1 || len(got.Turns[0].Items) != 0 {
		t.Errorf("Load = %+v, %v; want the one turn", got, err)
	}
	if !strings.Contains(logs.String(), "line 2") {
		t.Errorf("log %q does not name line 2", logs.String())
	}
}

func TestRolloutBadFirstLine(t *testing.T) {
	s, _ := roStore(t)
	for name, content := range map[string]string{
		"empty":         "",
		"torn":          `{"type":"thr`,
		"not a thread":  `{"type":"meta","meta":{}}` + "\n",
		"newer version": `{"type":"thread","version":99,"thread":{"id":"ID"}}` + "\n",
		"other id":      `{"type":"thread","version":1,"thread":{"id":"01900000-0000-7000-8000-000000000000"}}` + "\n",
	} {
		id := roNewID(t)
		content = strings.ReplaceAll(content, "ID", id.String())
		if err := os.WriteFile(s.path(id, false), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(id); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
		if sums, _, err := s.List(false, "", 100); err != nil || slices.ContainsFunc(sums, func(s ThreadSummary) bool { return s.Meta.ID == id }) {
			t.Errorf("%s: List = %v, %v; want it skipped", name, sums, err)
		}
	}
}

// TestRolloutCrashMidTurnLoadsInterrupted also loads item ids that are not
// UUIDs ("c1", as older rollouts hold a model's "call_…" id): they are
// data read back, matched as written.
func TestRolloutCrashMidTurnLoadsInterrupted(t *testing.T) {
	s, _ := roStore(t)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	user := roUserItem("u1", "npm install")
	roAppend(t, r,
		TurnStartedRecord(turn1ID, 1700000001),
		ItemCompletedRecord(turn1ID, user),
		ItemStartedRecord(turn1ID, roCommandItem("c1", protocol.CommandInProgress, nil)),
		ItemOutputRecord(turn1ID, "c1", "fetching\n"),
		ItemOutputRecord(turn1ID, "c1", "building"),
		ItemOutputRecord(turn1ID, "other", "not this item's"),
	)
	// No turnCompleted, no Close: the server died here.
	got, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.Turn{{
		ID: turn1ID.String(), Items: []protocol.ThreadItem{user, roCommandItem("c1", protocol.CommandFailed, ptrTo("fetching\nbuilding"))},
		ItemsView: protocol.ItemsFull, Status: protocol.TurnInterrupted, StartedAt: ptrTo(int64(1700000001)),
	}}
	if diff := cmp.Diff(want, got.Turns); diff != "" {
		t.Errorf("turns (-want +got):\n%s", diff)
	}
	r.Close()
}

func TestStoreListPagination(t *testing.T) {
	s, logs := roStore(t)
	var ids []uuid.UUID
	for i := range 60 {
		id := roNewID(t)
		ids = append(ids, id)
		r, err := s.Create(roMeta(id))
		if err != nil {
			t.Fatal(err)
		}
		roAppend(t, r, TurnStartedRecord(turn1ID, 1), MetaRecord(MetaUpdate{Preview: ptrTo(fmt.Sprint("thread ", i))}),
			ItemCompletedRecord(turn1ID, roUserItem("u1", "x")), MetaRecord(MetaUpdate{Cwd: ptrTo("/later")}))
		r.Close()
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	slices.Reverse(ids) // newest first
	// Junk the listing must ignore.
	os.WriteFile(filepath.Join(s.threadsDir, "notes.txt"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(s.threadsDir, "not-a-uuid.jsonl"), []byte("x"), 0o600)

	var got []uuid.UUID
	cursor, pages := "", 0
	for {
		page, next, err := s.List(false, cursor, 25)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if want := []int{25, 25, 10}[pages-1]; len(page) != want {
			t.Errorf("page %d has %d threads, want %d", pages, len(page), want)
		}
		for _, sum := range page {
			got = append(got, sum.Meta.ID)
			// The preview was recorded before the first item; the cwd change
			// after it is for Load only.
			i := slices.Index(ids, sum.Meta.ID)
			if want := fmt.Sprint("thread ", 59-i); sum.Meta.Preview != want || sum.Meta.Cwd != "/work" {
				t.Errorf("summary %+v, want preview %q and the original cwd", sum.Meta, want)
			}
			if sum.Archived || sum.Path != s.path(sum.Meta.ID, false) {
				t.Errorf("summary %+v", sum)
			}
		}
		if next == "" {
			break
		}
		if pages == 1 {
			// A thread created meanwhile does not shift the next pages.
			r, err := s.Create(roMeta(roNewID(t)))
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
		}
		cursor = next
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("ids in list order (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ limit, want int }{{0, 25}, {-3, 25}, {7, 7}, {1000, 61}} {
		page, next, err := s.List(false, "", tt.limit)
		if err != nil || len(page) != tt.want || (next == "") != (tt.want == 61) {
			t.Errorf("List(limit %d) = %d threads, next %q, %v; want %d", tt.limit, len(page), next, err, tt.want)
		}
	}
	for _, c := range []string{"garbage", "djE6Li4vZXRj", ids[0].String()} {
		if _, _, err := s.List(false, c, 10); !errors.Is(err, ErrBadCursor) {
			t.Errorf("List(cursor %q) error = %v, want ErrBadCursor", c, err)
		}
	}
	if strings.Contains(logs.String(), "not-a-uuid") {
		t.Errorf("junk files were read: %s", logs.String())
	}

	// updatedAt is the file's modification time.
	when := time.Unix(1800000000, 0)
	if err := os.Chtimes(s.path(ids[3], false), when, when); err != nil {
		t.Fatal(err)
	}
	page, _, _ := s.List(false, "", 100)
	for _, sum := range page {
		if sum.Meta.ID == ids[3] && sum.UpdatedAt != when.Unix() {
			t.Errorf("UpdatedAt = %d, want %d", sum.UpdatedAt, when.Unix())
		}
	}
}

func TestStoreArchive(t *testing.T) {
	s, _ := roStore(t)
	a, b := roNewID(t), roNewID(t)
	ra, _ := roSampleThread(t, s, a)
	defer ra.Close()
	rb, err := s.Create(roMeta(b))
	if err != nil {
		t.Fatal(err)
	}
	rb.Close()

	listIDs := func(archived bool) []uuid.UUID {
		t.Helper()
		page, _, err := s.List(archived, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uuid.UUID
		for _, sum := range page {
			if sum.Archived != archived {
				t.Errorf("summary of %s: Archived = %v", sum.Meta.ID, sum.Archived)
			}
			ids = append(ids, sum.Meta.ID)
		}
		return ids
	}

	if err := s.Archive(a); err != nil {
		t.Fatal(err)
	}
	if arch, ok := s.Exists(a); !ok || !arch {
		t.Errorf("Exists = %v, %v after Archive", arch, ok)
	}
	if got := listIDs(false); !slices.Equal(got, []uuid.UUID{b}) {
		t.Errorf("active = %v, want [%s]", got, b)
	}
	if got := listIDs(true); !slices.Equal(got, []uuid.UUID{a}) {
		t.Errorf("archived = %v, want [%s]", got, a)
	}
	if err := s.Archive(a); !errors.Is(err, ErrAlreadyArchived) {
		t.Errorf("second Archive: %v", err)
	}
	if err := s.Unarchive(b); !errors.Is(err, ErrNotArchived) {
		t.Errorf("Unarchive of an active thread: %v", err)
	}
	missing := roNewID(t)
	if err := s.Archive(missing); !errors.Is(err, ErrThreadNotFound) {
		t.Errorf("Archive of a missing thread: %v", err)
	}
	if err := s.Unarchive(missing); !errors.Is(err, ErrThreadNotFound) {
		t.Errorf("Unarchive of a missing thread: %v", err)
	}
	if _, err := s.Create(roMeta(a)); !errors.Is(err, ErrThreadExists) {
		t.Errorf("Create of an archived id: %v", err)
	}

	// An open File keeps appending into the moved file.
	roAppend(t, ra, MetaRecord(MetaUpdate{Preview: ptrTo("moved")}))
	lt, err := s.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if !lt.Archived || lt.Path != s.path(a, true) || lt.Meta.Preview != "moved" || len(lt.Turns) != 2 {
		t.Errorf("loaded archived thread: %+v", lt)
	}
	// Resuming an archived thread's file works as well.
	ro, err := s.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()

	if err := s.Unarchive(a); err != nil {
		t.Fatal(err)
	}
	if arch, ok := s.Exists(a); !ok || arch {
		t.Errorf("Exists = %v, %v after Unarchive", arch, ok)
	}
	if got := listIDs(false); !slices.Equal(got, []uuid.UUID{b, a}) {
		t.Errorf("active = %v, want [%s %s]", got, b, a)
	}
	if got := listIDs(true); len(got) != 0 {
		t.Errorf("archived = %v, want none", got)
	}
}

func TestStoreCreateRefusesUnloadableMeta(t *testing.T) {
	s, _ := roStore(t)
	meta := roMeta(roNewID(t))
	meta.Sandbox = "sandbox-of-sand"
	if _, err := s.Create(meta); err == nil {
		t.Fatal("Create succeeded with an unknown sandbox mode")
	}
	if _, ok := s.Exists(meta.ID); ok {
		t.Error("a file was left behind")
	}
	// Unset settings are fine: they are omitted.
	meta.Sandbox, meta.ApprovalPolicy = "", ""
	r, err := s.Create(meta)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if lt, err := s.Load(meta.ID); err != nil || lt.Meta != meta {
		t.Errorf("Load = %+v, %v; want %+v", lt, err, meta)
	}
}

func TestStoreCreateTwice(t *testing.T) {
	s, _ := roStore(t)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := s.Create(roMeta(id)); !errors.Is(err, ErrThreadExists) {
		t.Errorf("second Create: %v", err)
	}
}

// Two servers (two Stores on one home) appending to one thread through
// separate descriptors must leave whole lines only.
func TestRolloutConcurrentAppends(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	s1, err := OpenStore(home)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := OpenStore(home)
	if err != nil {
		t.Fatal(err)
	}
	id := roNewID(t)
	r0, err := s1.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	r0.Close()
	r1, err := s1.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s2.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 30
	var wg sync.WaitGroup
	for w := range writers {
		r := []*File{r1, r2}[w%2]
		wg.Go(func() {
			for i := range each {
				// Lines of 8 KiB to 40 KiB, well past any pipe-sized atomicity.
				text := strings.Repeat(string(rune('a'+w)), 8<<10*(1+i%5))
				item := protocol.ThreadItem{AgentMessage: &protocol.AgentMessageItem{ID: fmt.Sprintf("w%d-%d", w, i), Text: text}}
				if err := r.Append(ItemCompletedRecord(turn1ID, item), i%10 == 0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	r1.Close()
	r2.Close()

	lt, err := s1.Load(id)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(lt.Turns) != 1 || len(lt.Turns[0].Items) != writers*each {
		t.Fatalf("got %d turns, want 1 with %d items", len(lt.Turns), writers*each)
	}
	for _, it := range lt.Turns[0].Items {
		var w, i int
		fmt.Sscanf(it.AgentMessage.ID, "w%d-%d", &w, &i)
		if want := strings.Repeat(string(rune('a'+w)), 8<<10*(1+i%5)); it.AgentMessage.Text != want {
			t.Errorf("item %s has %d bytes of mixed text", it.AgentMessage.ID, len(it.AgentMessage.Text))
		}
	}
}

package rollout

import (
	"os"
	"strings"
	"testing"
)

// When the fragment of a failed append cannot be cut off, the next record
// starts on a fresh line and Load skips the fragment alone.
func TestRolloutUncutFragmentIsNotGluedToTheNextRecord(t *testing.T) {
	s, logs := roStore(t)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	roAppend(t, r, TurnStartedRecord(turn1ID, 1))
	roAppendRaw(t, r.Path(), `{"type":"itemCompleted","turnId":"`) // what the failed write left
	r.torn = true                                                  // and could not cut
	roAppend(t, r, ItemCompletedRecord(turn1ID, roUserItem("u1", "after")))
	got, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Turns) != 1 || len(got.Turns[0].Items) != 1 {
		t.Errorf("turns: %+v", got.Turns)
	}
	if !strings.Contains(logs.String(), "line 3") {
		t.Errorf("log %q does not name the fragment's line", logs)
	}
}

// A record is written without HTML escaping, and whatever Append accepts,
// Load reads back: a text of 11.5 MB of '<' once became 69 MB of \u003c,
// over the reader's limit (e2e has that case; 2 MB shows the escaping).
func TestRolloutHugeRecordReadsBack(t *testing.T) {
	s, _ := roStore(t)
	id := roNewID(t)
	r, err := s.Create(roMeta(id))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	text := strings.Repeat("<", 2_000_000)
	user := roUserItem("u1", text)
	roAppend(t, r, TurnStartedRecord(turn1ID, 1), ItemCompletedRecord(turn1ID, user))
	fi, _ := os.Stat(r.Path())
	if fi.Size() > 2_100_000 {
		t.Errorf("rollout is %d bytes for a text of %d", fi.Size(), len(text))
	}
	got, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if it := got.Turns[0].Items[0].UserMessage; it == nil || it.Content[0].Text.Text != text {
		t.Errorf("the text did not read back")
	}

	// Past the line limit, Append refuses rather than write what Load
	// would refuse.
	maxRolloutLine = 1 << 20
	t.Cleanup(func() { maxRolloutLine = defaultMaxRolloutLine })
	big := strings.Repeat("\u2028", maxRolloutLine/6+1) // escaped: 6 bytes each
	err = r.Append(ItemCompletedRecord(turn1ID, roUserItem("u2", big)), false)
	if err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("Append of a record over the limit = %v", err)
	}
	if _, err := s.Load(id); err != nil {
		t.Errorf("Load after a refused record: %v", err)
	}
}

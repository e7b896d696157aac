package session

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"app-server/protocol"

	"github.com/google/uuid"
)

// A long unrecognized decision is quoted cut short, on a rune boundary: the
// warning must not carry half a character.
func TestBadDecisionQuoteIsCutOnARuneBoundary(t *testing.T) {
	c := &scriptedClient{}
	m := newTestManager(t, c)
	th := newThread(m, uuid.New(), true, 0, settings{})
	c.t = th
	for _, value := range []string{
		strings.Repeat("é", 150),        // 2-byte runes, a cut at 200 lands mid-rune
		"a" + strings.Repeat("€", 100),  // 3-byte runes
		"ab" + strings.Repeat("𝄞", 100), // 4-byte runes
	} {
		raw, _ := json.Marshal(map[string]string{"decision": value})
		err := th.badDecision(protocol.IntID(7), "item-1", raw, errors.New("unknown"))
		msg := err.Error()
		if !utf8.ValidString(msg) {
			t.Errorf("warning is not valid UTF-8: %q", msg)
		}
		quoted := msg[strings.Index(msg, "decision ")+len("decision ") : strings.Index(msg, "... (")]
		if len(quoted) > maxQuotedDecision || len(quoted) < maxQuotedDecision-utf8.UTFMax || !strings.HasPrefix(`"`+value, quoted) {
			t.Errorf("quoted %q (%d bytes), want a prefix of the value of at most %d bytes", quoted, len(quoted), maxQuotedDecision)
		}
	}
}

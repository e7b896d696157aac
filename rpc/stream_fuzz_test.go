package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	"go.uber.org/goleak"
)

// fuzzMaxLine is the line cap under fuzzing: small, so that small inputs
// exercise the over-long path (TestStreamReadWireBytes covers 20 MiB lines).
const fuzzMaxLine = 512

const fuzzSentinel = `{"id":"fuzz-sentinel","method":"fuzz/sentinel"}`

// FuzzStream feeds arbitrary bytes, then a valid request, to a jsonrpc2.Conn
// over a Stream. Whatever came before, the connection must survive to handle
// the request, finish within a deadline, and write only well-formed -32600
// replies. Seeds are in testdata/fuzz/FuzzStream.
func FuzzStream(f *testing.F) {
	defer goleak.VerifyNone(f)
	f.Add([]byte(`{"id":7,"method":"x","params":"` + strings.Repeat("a", 2*fuzzMaxLine) + `"}` + "\n"))
	f.Add([]byte(`{"id":"7","method":"x","params":"` + strings.Repeat("a", streamBufferBytes+1) + `"}`))

	f.Fuzz(func(t *testing.T, in []byte) {
		checkObjectScanner(t, in)

		input := make([]byte, 0, len(in)+len(fuzzSentinel)+2)
		input = append(append(append(input, in...), '\n'), fuzzSentinel+"\n"...)
		var out streamLogs // any locked buffer will do
		s := NewStream(bytes.NewReader(input), &out, StreamOptions{MaxLineBytes: fuzzMaxLine})

		var h lastRequest
		conn := jsonrpc2.NewConn(context.Background(), s, &h, jsonrpc2.SetLogger(log.New(io.Discard, "", 0)))
		select {
		case <-conn.DisconnectNotify():
		case <-time.After(10 * time.Second):
			t.Fatal("stream did not reach EOF within 10s")
		}
		got := h.get()
		if got == nil || got.Method != "fuzz/sentinel" || got.ID.Str != "fuzz-sentinel" {
			t.Fatalf("last request handled = %+v, want the sentinel", got)
		}
		checkReplies(t, out.String())
	})
}

// lastRequest is a handler that keeps the last request and never replies, so
// that everything written is the stream's own.
type lastRequest struct {
	mu   sync.Mutex
	last *jsonrpc2.Request
}

func (h *lastRequest) Handle(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = req
}

func (h *lastRequest) get() *jsonrpc2.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// checkObjectScanner checks that the envelope scanner reaches the end of
// every line that is a valid JSON object: otherwise valid lines would be
// logged as invalid JSON.
func checkObjectScanner(t *testing.T, in []byte) {
	t.Helper()
	for line := range bytes.SplitSeq(in, []byte("\n")) {
		line = trimJSONSpace(line)
		if len(line) == 0 || line[0] != '{' || !json.Valid(line) {
			continue
		}
		sc, _ := newObjectScanner(line)
		for {
			if _, ok := sc.next(); !ok {
				break
			}
		}
		if !sc.closed || sc.i != len(line) {
			t.Fatalf("scanner stopped at %d of valid object %q", sc.i, line)
		}
	}
}

// checkReplies checks that everything the stream wrote on its own is a
// -32600 reply line with a string or number id and no "jsonrpc" member.
func checkReplies(t *testing.T, out string) {
	t.Helper()
	if out == "" {
		return
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end in a newline: %q", out)
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		var e struct{ Code int64 }
		if err := json.Unmarshal(m["error"], &e); err != nil || e.Code != jsonrpc2.CodeInvalidRequest {
			t.Errorf("output line %q is not a -32600 error reply", line)
		}
		if _, ok := m["jsonrpc"]; ok || len(m) != 2 {
			t.Errorf("output line %q: want exactly id and error", line)
		}
		if id := m["id"]; len(id) == 0 || !(id[0] == '"' || id[0] == '-' || isDigit(id[0])) {
			t.Errorf("output line %q: id is not a string or number", line)
		}
	}
}

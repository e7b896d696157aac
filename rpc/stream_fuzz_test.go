package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// fuzzMaxLine is the line cap under fuzzing: small, so that small inputs
// exercise the over-long path (TestWireBadInput covers 20 MiB lines).
const fuzzMaxLine = 512

const fuzzSentinel = `{"id":"fuzz-sentinel","method":"initialize","params":{"clientInfo":{"name":"fuzz","version":"1"}}}`

// FuzzStream feeds arbitrary bytes, then a valid request, to a Server.
// Whatever came before, the connection must survive to answer the request,
// finish within a deadline, and write only well-formed replies. Seeds are in
// testdata/fuzz/FuzzStream.
func FuzzStream(f *testing.F) {
	defer goleak.VerifyNone(f)
	f.Add([]byte(`{"id":7,"method":"x","params":"` + strings.Repeat("a", 2*fuzzMaxLine) + `"}` + "\n"))
	f.Add([]byte(`{"id":"7","method":"x","params":"` + strings.Repeat("a", streamBufferBytes+1) + `"}`))

	f.Fuzz(func(t *testing.T, in []byte) {
		input := make([]byte, 0, len(in)+len(fuzzSentinel)+2)
		input = append(append(append(input, in...), '\n'), fuzzSentinel+"\n"...)
		var out syncBuffer
		s := NewServer(Options{MaxLineBytes: fuzzMaxLine})
		done := make(chan error, 1)
		go func() { done <- s.Serve(context.Background(), bytes.NewReader(input), &out) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("server did not reach EOF within 10s")
		}
		checkReplies(t, out.String())
	})
}

// checkReplies checks that everything the server wrote is a reply line
// without a "jsonrpc" member whose id is a string, a number or null, and
// that the last one answers the sentinel.
func checkReplies(t *testing.T, out string) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end in a newline: %q", out)
	}
	var last map[string]json.RawMessage
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		_, isErr := m["error"]
		_, isResult := m["result"]
		if _, ok := m["jsonrpc"]; ok || len(m) != 2 || isErr == isResult {
			t.Errorf("output line %q: want exactly id and one of error and result", line)
		}
		if id := m["id"]; len(id) == 0 || !(id[0] == '"' || id[0] == '-' || isDigit(id[0]) || string(id) == "null") {
			t.Errorf("output line %q: id is not a string, number or null", line)
		}
		last = m
	}
	if string(last["id"]) != `"fuzz-sentinel"` {
		t.Fatalf("the sentinel was not answered last; output:\n%s", out)
	}
}

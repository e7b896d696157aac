package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"app-server/protocol"
)

// The package may get a TestMain from another file; per-test goleak checks
// keep these tests independent of it.

// streamAfterLine is the request every wire case ends with: it must be
// answered whatever came before.
const streamAfterLine = `{"id":99,"method":"thread/loaded/list"}`

const streamAfterReply = `{"id":99,"result":{"ok":true}}`

// syncBuffer is a buffer safe to read while another goroutine writes (a
// slog destination, or the server's output).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *syncBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// serveWire runs a Server on in (after an initialize) until the input ends
// and returns what it wrote after the initialize response, and its log.
// thread/loaded/list answers {"ok":true}.
func serveWire(t *testing.T, maxLine int, in io.Reader) (out []string, logs string) {
	t.Helper()
	var w, l syncBuffer
	s := NewServer(Options{MaxLineBytes: maxLine, Logger: l.logger()})
	s.RegisterInline(protocol.MethodThreadLoadedList, func(context.Context, json.RawMessage) (any, error) {
		return map[string]bool{"ok": true}, nil
	})
	r := io.MultiReader(strings.NewReader(initLine+"\n"), in)
	if err := s.Serve(context.Background(), r, &w); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if !strings.Contains(lines[0], `"userAgent"`) {
		t.Fatalf("first output line is not the initialize response: %s", lines[0])
	}
	return lines[1:], l.String()
}

// replyShape reduces an error reply to "<id> <code>", results to "<id> ok".
func replyShape(t *testing.T, line string) string {
	t.Helper()
	var m struct {
		ID     json.RawMessage
		Result json.RawMessage
		Error  *protocol.Error
	}
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("output line %q: %v", line, err)
	}
	if m.Error != nil {
		return fmt.Sprintf("%s %d", m.ID, m.Error.Code)
	}
	return string(m.ID) + " ok"
}

func bigLine(head string, n int, tail string) string {
	return head + strings.Repeat("a", n) + tail
}

// TestWireBadInput checks the answer to every kind of bad input: -32700
// for what is not JSON, -32600 for JSON that is not a request (with the id
// when it can be echoed, else null), nothing for a bad response; and the
// connection always goes on to answer the next request.
func TestWireBadInput(t *testing.T) {
	defer goleak.VerifyNone(t)
	const mib = 1 << 20
	tests := []struct {
		name    string
		in      string   // input before streamAfterLine
		noAfter bool     // the input ends without streamAfterLine
		want    []string // replyShape of each reply, streamAfterLine's excluded
		wantLog bool
	}{
		{name: "malformed JSON", in: `{"id":1,"method":"x",}`, want: []string{"null -32700"}, wantLog: true},
		{name: "garbage", in: "hello", want: []string{"null -32700"}, wantLog: true},
		{name: "truncated object", in: `{"id":1,"method":"x"`, want: []string{"null -32700"}, wantLog: true},
		{name: "truncated object with bad id", in: `{"id":-1,"method":"x"`, want: []string{"null -32700"}, wantLog: true},
		{name: "invalid JSON inside params", in: `{"id":-1,"method":"x","params":{"a":tru}}`, want: []string{"null -32700"}, wantLog: true},
		{name: "trailing data", in: `{"id":1,"method":"x"} {}`, want: []string{"null -32700"}, wantLog: true},
		{name: "byte-order mark", in: "\xef\xbb\xbf" + streamAfterLine, want: []string{"null -32700"}, wantLog: true},
		{name: "invalid UTF-8", in: "{\"id\":1,\"method\":\"\xff\"}", want: []string{"null -32700"}, wantLog: true},
		{name: "invalid UTF-8 in params", in: "{\"id\":1,\"method\":\"thread/loaded/list\",\"params\":{\"x\":\"\xff\xfe\"}}", want: []string{"null -32700"}, wantLog: true},
		{name: "empty object", in: "{}", want: []string{"null -32600"}, wantLog: true},
		{name: "batch", in: `[{"id":1,"method":"x"}]`, want: []string{"null -32600"}, wantLog: true},
		{name: "number line", in: "42", want: []string{"null -32600"}, wantLog: true},
		{name: "string line", in: `"x"`, want: []string{"null -32600"}, wantLog: true},
		{name: "method is a number", in: `{"id":1,"method":5}`, want: []string{"1 -32600"}, wantLog: true},
		{name: "method is a number with a bad id", in: `{"id":-1,"method":5}`, want: []string{"-1 -32600"}, wantLog: true},
		{name: "request and response at once", in: `{"id":1,"method":"x","result":null}`, want: []string{"1 -32600"}, wantLog: true},
		{name: "fractional id", in: `{"id":1.5,"method":"x"}`, want: []string{"1.5 -32600"}, wantLog: true},
		{name: "negative id", in: `{"id":-1,"method":"x"}`, want: []string{"-1 -32600"}, wantLog: true},
		{name: "exponent id", in: `{"id":1e3,"method":"x"}`, want: []string{"1e3 -32600"}, wantLog: true},
		{name: "id beyond int64", in: `{"id":9223372036854775808,"method":"x"}`, want: []string{"9223372036854775808 -32600"}, wantLog: true},
		{name: "escaped id key", in: `{"\u0069d":-2,"method":"x"}`, want: []string{"-2 -32600"}, wantLog: true},
		{name: "id true", in: `{"id":true,"method":"x"}`, want: []string{"null -32600"}, wantLog: true},
		{name: "id object", in: `{"id":{},"method":"x"}`, want: []string{"null -32600"}, wantLog: true},
		{name: "id null", in: `{"jsonrpc":"2.0","id":null,"method":"initialized"}`, want: []string{"null -32600"}, wantLog: true},
		{name: "response without id", in: `{"result":1}`, wantLog: true},
		{name: "response with null id", in: `{"id":null,"error":{"code":1,"message":"m"}}`, wantLog: true},
		{name: "response with negative id", in: `{"id":-1,"result":1}`, wantLog: true},
		{name: "error null and no result", in: `{"id":1,"error":null}`, wantLog: true},
		{name: "error that does not decode", in: `{"id":5,"error":"boom"}`, wantLog: true},
		{name: "response to an unknown id", in: `{"id":12345,"result":{"decision":"accept"}}`, wantLog: true},
		{name: "unknown method", in: `{"id":"m","method":"x/y"}`, want: []string{`"m" -32601`}},
		{name: "notification", in: `{"jsonrpc":"2.0","method":"initialized"}`},
		{name: "unknown notification", in: `{"method":"x/y","params":{}}`},
		{
			name: "string and int ids",
			in:   `{"id":"7","method":"thread/loaded/list"}` + "\n" + `{"id":7,"method":"thread/loaded/list"}`,
			want: []string{`"7" ok`, "7 ok"},
		},
		{name: "largest int64 id", in: `{"id":9223372036854775807,"method":"thread/loaded/list"}`, want: []string{"9223372036854775807 ok"}},
		{name: "10,000 blank lines", in: strings.Repeat("\n", 10000)},
		{name: "whitespace lines", in: " \n\t\n\r\n \r"},
		{name: "CRLF endings", in: `{"id":1,"method":"thread/loaded/list"}` + "\r\n\r", want: []string{"1 ok"}},
		{name: "no trailing newline at EOF", in: `  {"id":1,"method":"thread/loaded/list"}  `, noAfter: true, want: []string{"1 ok"}},
		{
			name:    "20 MiB line with int id",
			in:      bigLine(`{"id":7,"method":"x","params":"`, 20*mib, `"}`),
			want:    []string{"7 -32600"},
			wantLog: true,
		},
		{
			name:    "20 MiB line with string id",
			in:      bigLine(`{"method":"x","id":"7","params":"`, 20*mib, `"}`),
			want:    []string{`"7" -32600`},
			wantLog: true,
		},
		{name: "20 MiB line without recoverable id", in: bigLine(`{"method":"x","params":"`, 20*mib, `","id":7}`), wantLog: true},
		{name: "20 MiB response line is not answered", in: bigLine(`{"id":7,"result":"`, 20*mib, `"}`), wantLog: true},
		{
			name:    "20 MiB line without newline at EOF",
			in:      streamAfterLine + "\n" + bigLine(`{"id":8,"method":"x","params":"`, 20*mib, ``),
			noAfter: true,
			want:    []string{"99 ok", "8 -32600"},
			wantLog: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if !tt.noAfter {
				in += "\n" + streamAfterLine + "\n"
			}
			out, logs := serveWire(t, 0, strings.NewReader(in))
			var got []string
			for _, l := range out {
				if strings.Contains(l, `"jsonrpc"`) {
					t.Errorf("output has a jsonrpc member: %s", l)
				}
				got = append(got, replyShape(t, l))
			}
			want := tt.want
			if !tt.noAfter {
				want = append(want, "99 ok")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
			if gotLog := logs != ""; gotLog != tt.wantLog {
				t.Errorf("logged = %v, want %v; log:\n%s", gotLog, tt.wantLog, logs)
			}
			if len(logs) > 4096 {
				t.Errorf("log record is not a short excerpt: %d bytes", len(logs))
			}
		})
	}
}

// TestWireRejectionMessages pins the exact bytes of the rejections.
func TestWireRejectionMessages(t *testing.T) {
	defer goleak.VerifyNone(t)
	for in, want := range map[string]string{
		`{"id":-1,"method":"x"}`:   `{"id":-1,"error":{"code":-32600,"message":"Invalid request: id must be a string or a non-negative integer"}}`,
		`{"id":true,"method":"x"}`: `{"id":null,"error":{"code":-32600,"message":"Invalid request: id must be a string or a non-negative integer"}}`,
		`[]`:                       `{"id":null,"error":{"code":-32600,"message":"Invalid request: batch (JSON array) not supported"}}`,
		`{}`:                       `{"id":null,"error":{"code":-32600,"message":"Invalid request: not a JSON-RPC message (no method, result or error)"}}`,
		"\xff":                     `{"id":null,"error":{"code":-32700,"message":"Parse error: invalid UTF-8"}}`,
		"\xef\xbb\xbf{}":           `{"id":null,"error":{"code":-32700,"message":"Parse error: byte-order mark (U+FEFF) before the JSON text"}}`,
		`{"id"`:                    `{"id":null,"error":{"code":-32700,"message":"Parse error: unexpected end of JSON input"}}`,
		bigLine(`{"id":7,"method":"x","params":"`, 300, `"}`): `{"id":7,"error":{"code":-32600,"message":"Invalid request: line too long"}}`,
	} {
		out, _ := serveWire(t, 256, strings.NewReader(in+"\n"))
		if len(out) != 1 || out[0] != want {
			t.Errorf("%.40q answered\n  %q\nwant\n  %q", in, out, want)
		}
	}
}

// TestStreamLineCap checks the cap boundary on both read paths: lines that fit
// in the read buffer and lines collected across several fills.
func TestStreamLineCap(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, maxLine := range []int{64, 3 * streamBufferBytes} {
		line := func(n int) string { // a request of exactly n bytes
			head, tail := `{"id":5,"method":"x","params":"`, `"}`
			return bigLine(head, n-len(head)-len(tail), tail)
		}
		for _, tc := range []struct {
			n       int
			end     string
			tooLong bool
		}{
			{maxLine, "\n", false},
			{maxLine, "\r\n", true}, // the \r counts: the cap is on raw bytes
			{maxLine, "", false},
			{maxLine + 1, "\n", true},
			{maxLine + 1, "", true},
		} {
			t.Run(fmt.Sprintf("cap %d line %d end %q", maxLine, tc.n, tc.end), func(t *testing.T) {
				in := line(tc.n) + tc.end
				if tc.end != "" {
					in += "next\n"
				}
				s := NewStream(strings.NewReader(in), io.Discard, StreamOptions{MaxLineBytes: maxLine})
				msg, err := s.ReadMessage()
				var tooLong *tooLongError
				if tc.tooLong {
					if !errors.As(err, &tooLong) || !strings.HasPrefix(line(tc.n)+tc.end, string(tooLong.prefix)) {
						t.Fatalf("ReadMessage = %.20q, %v; want a *tooLongError with the line's start", msg, err)
					}
				} else if err != nil || string(msg) != line(tc.n) {
					t.Fatalf("ReadMessage = %.20q, %v; want the line", msg, err)
				}
				if tc.end != "" {
					if msg, err := s.ReadMessage(); err != nil || string(msg) != "next" {
						t.Fatalf("next ReadMessage = %q, %v", msg, err)
					}
				}
				if _, err := s.ReadMessage(); err != io.EOF {
					t.Fatalf("at the end: %v, want io.EOF", err)
				}
				if _, err := s.ReadMessage(); err != io.EOF {
					t.Fatalf("after the end: %v, want io.EOF again", err)
				}
			})
		}
	}
}

// endlessLine yields one request line whose params string is n bytes long,
// generated on the fly, followed by tail.
type endlessLine struct {
	head, tail []byte
	n          int
}

func (r *endlessLine) Read(p []byte) (int, error) {
	switch {
	case len(r.head) > 0:
		k := copy(p, r.head)
		r.head = r.head[k:]
		return k, nil
	case r.n > 0:
		k := min(len(p), r.n)
		for i := range k {
			p[i] = 'a'
		}
		r.n -= k
		return k, nil
	case len(r.tail) > 0:
		k := copy(p, r.tail)
		r.tail = r.tail[k:]
		return k, nil
	}
	return 0, io.EOF
}

// TestStreamLongLineMemoryBounded reads a 512 MiB line with a 1 MiB cap: the
// stream must throw the excess away as it reads instead of buffering it.
func TestStreamLongLineMemoryBounded(t *testing.T) {
	defer goleak.VerifyNone(t)
	if testing.Short() {
		t.Skip("reads 512 MiB")
	}
	r := &endlessLine{
		head: []byte(`{"id":"big","method":"x","params":"`),
		n:    512 << 20,
		tail: []byte(`"}` + "\n" + streamAfterLine + "\n"),
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, _ := serveWire(t, 1<<20, r)
	runtime.ReadMemStats(&after)
	want := []string{`{"id":"big","error":{"code":-32600,"message":"Invalid request: line too long"}}`, streamAfterReply}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes reading a 512 MiB line with a 1 MiB cap", alloc)
	}
}

// TestOutputEnvelope pins the output members and their order: no
// "jsonrpc", id first, emittedAtMs before method.
func TestOutputEnvelope(t *testing.T) {
	params := json.RawMessage(`{"jsonrpc":"2.0","a":1}`)
	for _, tc := range []struct{ got, want string }{
		{string(appendResult(nil, json.RawMessage(`7`), json.RawMessage(`{"ok":true}`))), `{"id":7,"result":{"ok":true}}`},
		{string(appendResult(nil, json.RawMessage(`"7"`), json.RawMessage(`null`))), `{"id":"7","result":null}`},
		{string(appendError(nil, json.RawMessage(`"7"`), &protocol.Error{Code: -32601, Message: `no "x"`})), `{"id":"7","error":{"code":-32601,"message":"no \"x\""}}`},
		{string(appendError(nil, nil, &protocol.Error{Code: -32700, Message: "m", Data: json.RawMessage(`{"d":1}`)})), `{"id":null,"error":{"code":-32700,"message":"m","data":{"d":1}}}`},
		{string(appendNotification(nil, 5, "turn/started", params)), `{"emittedAtMs":5,"method":"turn/started","params":{"jsonrpc":"2.0","a":1}}`},
		{string(appendRequest(nil, 0, "item/commandExecution/requestApproval", json.RawMessage(`{}`))), `{"id":0,"method":"item/commandExecution/requestApproval","params":{}}`},
	} {
		if tc.got != tc.want {
			t.Errorf("wrote %s, want %s", tc.got, tc.want)
		}
	}
}

// failingWriter fails every write from the failAt-th on (1-based).
type failingWriter struct {
	calls, failAt int
	err           error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls >= w.failAt {
		return 0, w.err
	}
	return len(p), nil
}

func TestStreamWriteErrorIsSticky(t *testing.T) {
	defer goleak.VerifyNone(t)
	w := &failingWriter{failAt: 2, err: syscall.EPIPE}
	s := NewStream(strings.NewReader(""), w, StreamOptions{})
	msg := []byte(`{"method":"x"}`)
	if err := s.WriteMessage(msg); err != nil {
		t.Fatalf("first write: %v", err)
	}
	first := s.WriteMessage(msg)
	if !errors.Is(first, syscall.EPIPE) {
		t.Fatalf("second write: %v, want EPIPE", first)
	}
	if err := s.WriteMessage(msg); err != first {
		t.Errorf("later write: %v, want the first error %v", err, first)
	}
	if w.calls != 2 {
		t.Errorf("writer called %d times, want 2: writes after an error must not reach it", w.calls)
	}
}

// closeCounter counts Close calls; it is comparable, so the stream can see
// that a reader and writer are the same value.
type closeCounter struct {
	io.Reader
	io.Writer
	closes *int
}

func (c closeCounter) Close() error { *c.closes++; return nil }

func TestStreamClose(t *testing.T) {
	defer goleak.VerifyNone(t)
	var rc, wc, both int
	r := closeCounter{Reader: strings.NewReader(streamAfterLine + "\n"), closes: &rc}
	w := closeCounter{Writer: io.Discard, closes: &wc}
	s := NewStream(r, w, StreamOptions{})
	for range 3 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if rc != 1 || wc != 1 {
		t.Errorf("reader closed %d times, writer %d times; want once each", rc, wc)
	}
	if err := s.WriteMessage([]byte(`{}`)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("write after Close: %v, want os.ErrClosed", err)
	}
	if _, err := s.ReadMessage(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("read after Close: %v, want os.ErrClosed", err)
	}

	conn := closeCounter{Reader: strings.NewReader(""), Writer: io.Discard, closes: &both}
	s = NewStream(conn, conn, StreamOptions{})
	s.Close()
	s.Close()
	if both != 1 {
		t.Errorf("a reader that is also the writer was closed %d times, want once", both)
	}
}

// enteredReader signals each time a Read starts.
type enteredReader struct {
	io.ReadCloser
	entered chan struct{}
}

func (r enteredReader) Read(p []byte) (int, error) {
	r.entered <- struct{}{}
	return r.ReadCloser.Read(p)
}

// TestStreamCloseUnblocksRead checks the shutdown path: Close must end a
// read blocked on a pipe.
func TestStreamCloseUnblocksRead(t *testing.T) {
	defer goleak.VerifyNone(t)
	pr, _ := io.Pipe()
	r := enteredReader{ReadCloser: pr, entered: make(chan struct{}, 1)}
	s := NewStream(r, io.Discard, StreamOptions{})
	done := make(chan error)
	go func() {
		_, err := s.ReadMessage()
		done <- err
	}()
	<-r.entered // the read is under way (at worst about to block)
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("ReadMessage returned nil after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadMessage still blocked 5s after Close")
	}
}

// choppyWriter writes each message in small pieces, yielding in between, so
// that unsynchronized writers would interleave.
type choppyWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *choppyWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 7 {
		w.mu.Lock()
		w.buf.Write(p[i:min(i+7, len(p))])
		w.mu.Unlock()
		runtime.Gosched()
	}
	return len(p), nil
}

func TestStreamConcurrentWrites(t *testing.T) {
	defer goleak.VerifyNone(t)
	const n = 50
	var w choppyWriter
	s := NewStream(strings.NewReader(""), &w, StreamOptions{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			params := json.RawMessage(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("x", 200)))
			if err := s.WriteMessage(appendNotification(nil, 1, "item/commandExecution/outputDelta", params)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("got %d lines, want %d", len(lines), n)
	}
	seen := map[int]bool{}
	for _, l := range lines {
		var m struct {
			Method string
			Params struct{ N int }
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		seen[m.Params.N] = true
	}
	if len(seen) != n {
		t.Errorf("got %d distinct messages, want %d", len(seen), n)
	}
}

// benchMessage is a typical 300-byte request.
var benchMessage = []byte(`{"id":1234,"method":"turn/start","params":{"threadId":"0199a6a1-7f3e-7c1a-9b2e-5d6f7a8b9c0d","input":[{"type":"text","text":"run the unit tests in ./rpc and summarize the failures, then propose a fix for the first one"}],"approvalPolicy":"on-request","cwd":"/home/user/project"}}` + "\n")

// repeatReader yields the same bytes forever.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.b[r.off:])
		n += k
		r.off = (r.off + k) % len(r.b)
	}
	return n, nil
}

// BenchmarkStreamRead reads and decodes a typical request: what the read
// loop pays per message before dispatch.
func BenchmarkStreamRead(b *testing.B) {
	s := NewStream(&repeatReader{b: benchMessage}, io.Discard, StreamOptions{})
	b.SetBytes(int64(len(benchMessage)))
	b.ReportAllocs()
	for b.Loop() {
		msg, err := s.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		if m := decodeMessage(msg); m.kind != kindRequest {
			b.Fatalf("decoded as %v", m.kind)
		}
	}
}

func BenchmarkStreamWrite(b *testing.B) {
	params := json.RawMessage(benchMessage[bytes.Index(benchMessage, []byte(`"params":`))+9 : len(benchMessage)-2])
	for _, bc := range []struct {
		name   string
		encode func([]byte) []byte
	}{
		{"response", func(b []byte) []byte { return appendResult(b, json.RawMessage(`1234`), params) }},
		{"notification", func(b []byte) []byte { return appendNotification(b, 1, "turn/started", params) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := NewStream(strings.NewReader(""), io.Discard, StreamOptions{})
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = bc.encode(buf[:0])
				if err := s.WriteMessage(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

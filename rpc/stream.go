package rpc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/sourcegraph/jsonrpc2"
)

// DefaultMaxLineBytes is the input line cap used when StreamOptions.MaxLineBytes is zero.
const DefaultMaxLineBytes = 16 << 20

const (
	// streamBufferBytes sizes the read buffer. A line that fits is handed to
	// the decoder straight from the buffer, without a copy.
	streamBufferBytes = 64 << 10

	// idScanBytes is how much of an over-long line is kept to look for its
	// "id": enough for any sane envelope, small enough to keep memory bounded.
	idScanBytes = 64 << 10

	// keepLineBytes bounds the long-line buffer kept between reads, so that one
	// 16 MiB message does not pin 16 MiB for the rest of the connection.
	keepLineBytes = 1 << 20

	excerptBytes = 80
)

const (
	msgLineTooLong = "Invalid request: line too long"
	msgBadID       = "Invalid request: id must be a string or a non-negative integer"
)

var errStreamClosed = fmt.Errorf("rpc: stream closed: %w", os.ErrClosed)

// StreamOptions configures a Stream. The zero value is ready to use.
type StreamOptions struct {
	// MaxLineBytes caps the length of one input line, newline excluded.
	// A longer line is discarded. If zero, DefaultMaxLineBytes is used.
	MaxLineBytes int

	// Logger receives one record per skipped input line. If nil, records are
	// discarded. It must not write to the stream's writer (stdout carries
	// protocol only).
	Logger *slog.Logger
}

// Stream is a jsonrpc2.ObjectStream speaking JSONL: one JSON-RPC message per
// line, without the "jsonrpc" member on output.
//
// Unlike the stock jsonrpc2 streams, a bad input line never ends the
// connection: lines that are not JSON-RPC messages are logged and skipped, and
// requests whose id jsonrpc2 cannot represent (negative, fractional, exponent,
// beyond int64) or whose line exceeds the cap are answered with -32600 by the
// stream itself, because jsonrpc2.ID would mis-echo them.
//
// Concurrency: ReadObject must be called from one goroutine at a time (the
// jsonrpc2.Conn read loop). WriteObject, WriteErrorReply and Close may be
// called from any number of goroutines, also concurrently with ReadObject.
// Each message is written with a single Write call under a mutex, so messages
// never interleave.
type Stream struct {
	// Read side, owned by the single reader.
	r       *bufio.Reader
	maxLine int
	long    []byte // reused buffer for lines longer than r's buffer
	rerr    error  // read error held back while its final, unterminated line is processed
	log     *slog.Logger

	wmu  sync.Mutex // serializes writes to w; guards werr and wbuf
	w    io.Writer
	werr error  // first write error, returned by every later write
	wbuf []byte // line assembly buffer, reused between writes

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	closers   []io.Closer
}

var _ jsonrpc2.ObjectStream = (*Stream)(nil)

// NewStream returns a Stream that reads messages from r and writes them to w.
// Close closes r and w when they implement io.Closer (once if they are the
// same value). A negative opts.MaxLineBytes panics.
func NewStream(r io.Reader, w io.Writer, opts StreamOptions) *Stream {
	if opts.MaxLineBytes < 0 {
		panic("rpc: NewStream: StreamOptions.MaxLineBytes is negative")
	}
	s := &Stream{
		r:       bufio.NewReaderSize(r, streamBufferBytes),
		maxLine: opts.MaxLineBytes,
		log:     opts.Logger,
		w:       w,
	}
	if s.maxLine == 0 {
		s.maxLine = DefaultMaxLineBytes
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	rc, _ := r.(io.Closer)
	wc, _ := w.(io.Closer)
	if rc != nil {
		s.closers = append(s.closers, rc)
	}
	if wc != nil && !sameCloser(rc, wc) {
		s.closers = append(s.closers, wc)
	}
	return s
}

// sameCloser reports whether a and b are the same value (a net.Conn passed
// as both reader and writer). A plain == panics on uncomparable types.
func sameCloser(a, b io.Closer) bool {
	t := reflect.TypeOf(a)
	return t != nil && t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// Close closes the underlying reader and writer. It does not wait for a
// write in progress; closing the writer is what unblocks it. Likewise a read
// in progress returns only if closing the reader interrupts it (a pipe does;
// a blocking os.Stdin may not). Later calls return the result of the first.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		var errs []error
		for _, c := range s.closers {
			errs = append(errs, c.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// ReadObject reads the next JSON-RPC message into v, skipping blank and
// invalid lines (see Stream). It returns io.EOF when the input ends.
func (s *Stream) ReadObject(v any) error {
	for {
		if s.closed.Load() {
			return errStreamClosed
		}
		line, tooLong, err := s.readLine()
		if err != nil {
			return err
		}
		if tooLong {
			s.rejectLongLine(line)
			continue
		}
		line = trimJSONSpace(line)
		if len(line) == 0 {
			continue
		}
		if !s.checkLine(line) {
			continue
		}
		err = json.Unmarshal(line, v)
		if err == nil {
			return nil
		}
		var invalid *json.InvalidUnmarshalError
		if errors.As(err, &invalid) {
			return err // a caller bug, not bad input: skipping would spin
		}
		// The envelope looked right but the target refused it (for example
		// "error":"text" in a response). Returning the error would make
		// jsonrpc2 drop the connection, so skip the line instead, and reset v:
		// jsonrpc2's message type may have been filled in halfway.
		reflect.ValueOf(v).Elem().SetZero()
		s.skipInvalid(line, "does not decode as a JSON-RPC message: "+err.Error())
	}
}

// readLine returns the next line without its newline. If the line is longer
// than the cap, tooLong is set and line holds only its first idScanBytes; the
// rest has been read and thrown away. The returned slice is valid until the
// next call.
func (s *Stream) readLine() (line []byte, tooLong bool, err error) {
	if s.rerr != nil {
		return nil, false, s.rerr
	}
	frag, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return s.readLongLine(frag)
	}
	if err != nil {
		if len(frag) == 0 {
			return nil, false, err
		}
		// A final line without a newline still counts; report the error on
		// the next call.
		s.rerr = err
	}
	line = trimNewline(frag)
	if len(line) > s.maxLine {
		return line[:min(len(line), idScanBytes)], true, nil
	}
	return line, false, nil
}

// readLongLine finishes a line that did not fit in the read buffer, given its
// first fragment. Up to the cap it is collected in s.long; past the cap only
// the first idScanBytes are kept and the rest is discarded as it arrives.
func (s *Stream) readLongLine(frag []byte) (line []byte, tooLong bool, err error) {
	buf := append(s.long[:0], frag...)
	n := len(frag) // bytes of the line seen so far
	for {
		frag, err = s.r.ReadSlice('\n')
		n += len(frag)
		content := n
		if err == nil {
			content-- // frag ends with the newline
		}
		switch {
		case tooLong:
		case content > s.maxLine:
			tooLong = true
			if len(buf) < idScanBytes {
				buf = append(buf, frag[:min(len(frag), idScanBytes-len(buf))]...)
			}
			buf = buf[:min(len(buf), idScanBytes)]
		default:
			buf = append(buf, frag...)
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	if cap(buf) <= keepLineBytes {
		s.long = buf[:0]
	} else {
		s.long = nil
	}
	if err != nil {
		s.rerr = err
	}
	if tooLong {
		return buf, true, nil
	}
	return trimNewline(buf), false, nil
}

// rejectLongLine logs an over-long line and, when the id of a request can be
// found in its beginning, answers it with -32600.
func (s *Stream) rejectLongLine(prefix []byte) {
	s.log.Warn("rpc: skipped input line", "reason", "longer than the line cap", "maxBytes", s.maxLine, "excerpt", lineExcerpt(prefix))
	id, isResponse := scanPrefixID(prefix)
	if id == nil || isResponse {
		return
	}
	if err := s.WriteErrorReply(id, jsonrpc2.CodeInvalidRequest, msgLineTooLong); err != nil {
		s.log.Warn("rpc: could not reply to an over-long line", "err", err)
	}
}

// scanPrefixID looks for the "id" member among the complete members at the
// start of a truncated object. It returns nil unless the id is a string or a
// number that can be echoed as is. isResponse is set when a "result" or
// "error" member was seen: responses are never answered.
func scanPrefixID(prefix []byte) (id []byte, isResponse bool) {
	sc, ok := newObjectScanner(prefix)
	if !ok {
		return nil, false
	}
	for {
		m, ok := sc.next()
		switch string(m.key) {
		case "id":
			if ok {
				id = m.value(prefix)
			}
		case "result", "error":
			// Even with its value cut off, the key tells a response.
			isResponse = true
		}
		if !ok {
			break
		}
	}
	if len(id) == 0 || !(id[0] == '"' || id[0] == '-' || isDigit(id[0])) {
		return nil, isResponse
	}
	// Nothing validated the prefix: make sure the echo is well-formed.
	if !utf8.Valid(id) || !json.Valid(id) {
		return nil, isResponse
	}
	return id, isResponse
}

// checkLine reports whether line is a JSON-RPC message jsonrpc2 can take. If
// not, it logs the line and, for a request with an unusable id, replies -32600.
// It avoids a full validation pass on the happy path: json.Unmarshal in
// ReadObject validates anyway, and only the reply path needs it up front.
func (s *Stream) checkLine(line []byte) bool {
	if !utf8.Valid(line) {
		s.skip(line, "invalid UTF-8")
		return false
	}
	switch line[0] {
	case '{':
	case '[':
		s.skipInvalid(line, "batch (JSON array) not supported")
		return false
	default:
		s.skipInvalid(line, "not a JSON object")
		return false
	}
	var id, method, result, errv []byte
	sc, _ := newObjectScanner(line)
	for {
		m, ok := sc.next()
		if !ok {
			break
		}
		// Keys are compared exactly, as jsonrpc2's Request decoder does; a
		// key that matches only case-insensitively ends up in the decode
		// error path in ReadObject.
		switch string(m.key) {
		case "id":
			id = m.value(line)
		case "method":
			method = m.value(line)
		case "result":
			result = m.value(line)
		case "error":
			errv = m.value(line)
		}
	}
	if !sc.closed || sc.i != len(line) {
		s.skip(line, "invalid JSON")
		return false
	}
	// jsonrpc2 tells requests from responses the same way: "method" present,
	// or "result" present (even null) or a non-null "error".
	isRequest := method != nil
	isResponse := result != nil || (errv != nil && string(errv) != "null")
	switch {
	case isRequest && isResponse:
		s.skipInvalid(line, "both a request and a response")
		return false
	case isRequest && method[0] != '"':
		s.skipInvalid(line, "method is not a string")
		return false
	case isResponse && !usableID(id):
		// Server-to-client ids are non-negative integers, so this answers
		// nothing we sent; jsonrpc2 would also read a missing id as 0.
		s.skipInvalid(line, "response without a usable id")
		return false
	case isResponse, isRequest && (id == nil || string(id) == "null" || usableID(id)):
		return true
	case isRequest && (id[0] == '-' || isDigit(id[0])):
		if !json.Valid(line) {
			s.skip(line, "invalid JSON")
			return false
		}
		s.skip(line, "request id is not a string or a non-negative integer")
		if err := s.WriteErrorReply(id, jsonrpc2.CodeInvalidRequest, msgBadID); err != nil {
			s.log.Warn("rpc: could not reply to a request with a bad id", "err", err)
		}
		return false
	case isRequest:
		// true, an object or an array cannot be echoed in a valid reply.
		s.skipInvalid(line, "request id is not a string or a number")
		return false
	default:
		s.skipInvalid(line, "not a JSON-RPC message (no method, result or error)")
		return false
	}
}

// skipInvalid logs a skipped line, telling malformed JSON apart from a
// well-formed line of the wrong shape.
func (s *Stream) skipInvalid(line []byte, reason string) {
	if !json.Valid(line) {
		reason = "invalid JSON"
	}
	s.skip(line, reason)
}

func (s *Stream) skip(line []byte, reason string) {
	s.log.Warn("rpc: skipped input line", "reason", reason, "bytes", len(line), "excerpt", lineExcerpt(line))
}

// usableID reports whether a raw id is one jsonrpc2.ID round-trips exactly: a
// string, or an integer in [0, MaxInt64] written without fraction or exponent.
func usableID(id []byte) bool {
	if len(id) == 0 {
		return false
	}
	if id[0] == '"' {
		return true
	}
	var n uint64
	for _, c := range id {
		if !isDigit(c) {
			return false
		}
		d := uint64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return false
		}
		n = n*10 + d
	}
	return true
}

// WriteObject writes obj as one compact JSON line. The "jsonrpc" member that
// jsonrpc2 always adds is removed. After a write error, it and every later
// write return that first error.
func (s *Stream) WriteObject(obj any) error {
	b, err := marshalMessage(obj)
	if err != nil {
		return err
	}
	cut, cutEnd := jsonrpcMember(b)
	return s.writeLine(b[:cut], b[cutEnd:])
}

// marshalMessage encodes obj. A json.Marshaler (jsonrpc2's message type is
// one) is called directly: json.Marshal would only re-validate and re-compact
// its output, which is about a third of the cost of a write. Per the
// json.Marshaler contract its output must be valid JSON; a raw line break in
// it is compacted away, since it would split the message on the wire.
func marshalMessage(obj any) ([]byte, error) {
	m, ok := obj.(json.Marshaler)
	if v := reflect.ValueOf(obj); !ok || v.Kind() == reflect.Pointer && v.IsNil() {
		return json.Marshal(obj)
	}
	b, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if bytes.IndexByte(b, '\n') >= 0 || bytes.IndexByte(b, '\r') >= 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return nil, err
		}
		b = buf.Bytes()
	}
	return b, nil
}

// WriteErrorReply writes the response {"id":id,"error":{"code":code,"message":msg}}.
// id is raw JSON echoed byte for byte, so an id keeps the type it was sent
// with, including ids jsonrpc2.ID cannot hold. It must be a JSON string or
// number.
func (s *Stream) WriteErrorReply(id json.RawMessage, code int64, msg string) error {
	if len(id) == 0 || !json.Valid(id) || !(id[0] == '"' || id[0] == '-' || isDigit(id[0])) {
		return fmt.Errorf("rpc: WriteErrorReply: id %q is not a JSON string or number", []byte(id))
	}
	quoted, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	b := make([]byte, 0, len(id)+len(quoted)+64)
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, code, 10)
	b = append(b, `,"message":`...)
	b = append(b, quoted...)
	b = append(b, "}}"...)
	return s.writeLine(b, nil)
}

// writeLine writes head, tail and a newline with one Write call, so that a
// message reaches the writer whole. The pieces are not modified: they may
// belong to the caller (a json.RawMessage passed to WriteObject).
func (s *Stream) writeLine(head, tail []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.werr != nil {
		return s.werr
	}
	if s.closed.Load() {
		return errStreamClosed
	}
	line := append(append(append(s.wbuf[:0], head...), tail...), '\n')
	_, err := s.w.Write(line)
	if cap(line) <= keepLineBytes {
		s.wbuf = line[:0] // io.Writer must not retain it
	} else {
		s.wbuf = nil
	}
	if err != nil {
		s.werr = fmt.Errorf("rpc: write: %w", err)
		return s.werr
	}
	return nil
}

var (
	jsonrpcFirst = []byte(`{"jsonrpc":"2.0",`)
	jsonrpcLast  = []byte(`,"jsonrpc":"2.0"}`)
)

// jsonrpcMember returns the span of b to drop to remove the top-level
// "jsonrpc" member from the JSON object b; start == end when there is none.
// jsonrpc2 puts the member last in responses and, sorting map keys, first in
// notifications and second (after "id") in requests: the first two are O(1)
// checks, the general case stops at the member.
//
// The suffix check is sound for valid JSON: `"2.0"` directly before the final
// brace must be the last top-level value, and its key is `"jsonrpc"`.
func jsonrpcMember(b []byte) (start, end int) {
	if bytes.HasSuffix(b, jsonrpcLast) {
		return len(b) - len(jsonrpcLast), len(b) - 1
	}
	if bytes.HasPrefix(b, jsonrpcFirst) {
		return 1, len(jsonrpcFirst)
	}
	sc, ok := newObjectScanner(b)
	if !ok {
		return len(b), len(b)
	}
	prevEnd := sc.i // end of the previous member, or just after '{'
	for first := true; ; first = false {
		m, ok := sc.next()
		if !ok {
			return len(b), len(b)
		}
		if string(m.key) != "jsonrpc" {
			prevEnd = m.end
			continue
		}
		if !first {
			// From the comma after the previous member to this one's end.
			return prevEnd, m.end
		}
		// The first member, with the comma that follows, if any.
		end := skipJSONSpace(b, m.end)
		if end < len(b) && b[end] == ',' {
			end++
		}
		return m.start, end
	}
}

// objectScanner walks the top-level members of a JSON object without
// decoding them. It does not validate: it stops at the first byte it does
// not expect, which also makes it usable on a truncated prefix.
type objectScanner struct {
	b      []byte
	i      int  // next byte to look at
	n      int  // members returned so far
	closed bool // the closing brace was reached; i is just past it
}

// objectMember locates one member in the scanned bytes.
type objectMember struct {
	key        []byte // between the quotes, escapes not decoded
	start      int    // the key's opening quote
	valueStart int
	end        int // just past the value
}

func (m objectMember) value(b []byte) []byte { return b[m.valueStart:m.end] }

func newObjectScanner(b []byte) (objectScanner, bool) {
	i := skipJSONSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return objectScanner{}, false
	}
	return objectScanner{b: b, i: i + 1}, true
}

// next returns the next member; ok is false at the closing brace or where
// the input stops making sense. When only the value is cut off, m.key is
// still set.
func (sc *objectScanner) next() (m objectMember, ok bool) {
	b := sc.b
	i := skipJSONSpace(b, sc.i)
	if i < len(b) && b[i] == '}' {
		sc.closed = true
		sc.i = i + 1
		return m, false
	}
	if sc.n > 0 {
		if i >= len(b) || b[i] != ',' {
			return m, false
		}
		i = skipJSONSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return m, false
	}
	keyEnd := skipJSONString(b, i)
	if keyEnd < 0 {
		return m, false
	}
	m.start = i
	m.key = b[i+1 : keyEnd-1]
	if bytes.IndexByte(m.key, '\\') >= 0 {
		// An escaped key ("\u0069d") still names the member for the
		// decoders; rare, so decoding it may allocate.
		var k string
		if json.Unmarshal(b[i:keyEnd], &k) != nil {
			return m, false
		}
		m.key = []byte(k)
	}
	i = skipJSONSpace(b, keyEnd)
	if i >= len(b) || b[i] != ':' {
		return m, false
	}
	m.valueStart = skipJSONSpace(b, i+1)
	m.end = skipJSONValue(b, m.valueStart)
	if m.end < 0 {
		return objectMember{key: m.key}, false
	}
	sc.i = m.end
	sc.n++
	return m, true
}

// skipJSONValue returns the index just past the value starting at b[i], or
// -1 if the input ends first.
func skipJSONValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipJSONString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipJSONString(b, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		// Number or literal: up to the next delimiter. Reaching the end means
		// the value may have been cut, so it is not taken.
		for j := i; j < len(b); j++ {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				if j == i {
					return -1
				}
				return j
			}
		}
		return -1
	}
}

// skipJSONString returns the index just past the string whose opening quote
// is b[i], or -1 if the input ends first.
func skipJSONString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	return i
}

func trimJSONSpace(b []byte) []byte {
	for len(b) > 0 && isJSONSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isJSONSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func trimNewline(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return b[:len(b)-1]
	}
	return b
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// lineExcerpt returns the start of line for a log record, cut on a rune
// boundary when the line is valid UTF-8.
func lineExcerpt(line []byte) string {
	if len(line) <= excerptBytes {
		return string(line)
	}
	n := excerptBytes
	for n > excerptBytes-utf8.UTFMax && !utf8.RuneStart(line[n]) {
		n--
	}
	return string(line[:n]) + "…"
}

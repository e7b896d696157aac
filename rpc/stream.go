package rpc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
)

// DefaultMaxLineBytes is the input line cap used when StreamOptions.MaxLineBytes is zero.
const DefaultMaxLineBytes = 16 << 20

const (
	// streamBufferBytes sizes the read buffer. A line that fits is handed
	// out straight from the buffer, without a copy.
	streamBufferBytes = 64 << 10

	// idScanBytes is how much of an over-long line is kept to look for its
	// "id": enough for any sane envelope, small enough to keep memory bounded.
	idScanBytes = 64 << 10

	// keepLineBytes bounds the long-line buffer kept between reads, so that one
	// 16 MiB message does not pin 16 MiB for the rest of the connection.
	keepLineBytes = 1 << 20
)

var errStreamClosed = fmt.Errorf("rpc: stream closed: %w", os.ErrClosed)

// tooLongError is returned by a transport for a message over the cap. The
// message has been consumed; prefix holds its beginning, to look for an id.
type tooLongError struct {
	prefix []byte
	limit  int
}

func (e *tooLongError) Error() string {
	return fmt.Sprintf("message longer than the %d-byte cap", e.limit)
}

// StreamOptions configures a Stream. The zero value is ready to use.
type StreamOptions struct {
	// MaxLineBytes caps the length of one input line, newline excluded.
	// A longer line is discarded. If zero, DefaultMaxLineBytes is used.
	MaxLineBytes int
}

// Stream is the JSONL framing of stdio: one message per line. It knows
// nothing of JSON-RPC; the connection decodes what it reads.
//
// Concurrency: ReadMessage must be called from one goroutine at a time.
// WriteMessage and Close may be called from any number of goroutines, also
// concurrently with ReadMessage. Each message is written with a single
// Write call under a mutex, so messages never interleave.
type Stream struct {
	// Read side, owned by the single reader.
	r       *bufio.Reader
	maxLine int
	long    []byte // reused buffer for lines longer than r's buffer
	rerr    error  // read error held back while its final, unterminated line is processed

	wmu     sync.Mutex // serializes writes to w; guards werr and wbuf
	w       io.Writer
	werr    error         // first write error, returned by every later write
	wfailed chan struct{} // closed when werr is set
	wbuf    []byte        // line assembly buffer, reused between writes

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	closers   []io.Closer
}

// NewStream returns a Stream that reads lines from r and writes them to w.
// Close closes r and w when they implement io.Closer (once if they are the
// same value). A negative opts.MaxLineBytes panics.
func NewStream(r io.Reader, w io.Writer, opts StreamOptions) *Stream {
	if opts.MaxLineBytes < 0 {
		panic("rpc: NewStream: StreamOptions.MaxLineBytes is negative")
	}
	s := &Stream{
		r:       bufio.NewReaderSize(r, streamBufferBytes),
		maxLine: opts.MaxLineBytes,
		w:       w,
		wfailed: make(chan struct{}),
	}
	if s.maxLine == 0 {
		s.maxLine = DefaultMaxLineBytes
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

// ReadMessage returns the next line that is not blank, without its line
// ending and surrounding JSON whitespace. The slice is valid until the next
// call. A line over the cap is consumed and reported as a *tooLongError; the
// stream goes on. At the end of the input it returns io.EOF.
func (s *Stream) ReadMessage() ([]byte, error) {
	for {
		if s.closed.Load() {
			return nil, errStreamClosed
		}
		line, tooLong, err := s.readLine()
		if err != nil {
			return nil, err
		}
		if tooLong {
			return nil, &tooLongError{prefix: line, limit: s.maxLine}
		}
		if line = trimJSONSpace(line); len(line) > 0 {
			return line, nil
		}
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

// WriteMessage writes msg and a newline with one Write call, so that a
// message reaches the writer whole. msg must not contain a line break (the
// encoder writes compact JSON). After a write error, it and every later
// write return that first error.
func (s *Stream) WriteMessage(msg []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.werr != nil {
		return s.werr
	}
	if s.closed.Load() {
		return errStreamClosed
	}
	line := append(append(s.wbuf[:0], msg...), '\n')
	_, err := s.w.Write(line)
	if cap(line) <= keepLineBytes {
		s.wbuf = line[:0] // io.Writer must not retain it
	} else {
		s.wbuf = nil
	}
	if err != nil {
		s.werr = fmt.Errorf("rpc: write: %w", err)
		close(s.wfailed)
		return s.werr
	}
	return nil
}

// writeFailed is closed when a write has failed; writeErr then returns the
// error.
func (s *Stream) writeFailed() <-chan struct{} { return s.wfailed }

func (s *Stream) writeErr() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.werr
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

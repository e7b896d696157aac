package session

import (
	"unicode/utf8"
)

// MaxOutputTail bounds ProcessResult.Output, and so the aggregatedOutput of a
// command item: a command printing gigabytes keeps only its last MiB.
const MaxOutputTail = 1 << 20

// outputTail keeps the last max bytes written to it. It grows on demand up
// to max (most commands print little) and then works as a ring, so it never
// holds more than max bytes whatever is written. Not safe for concurrent
// use: the output pump alone writes it, and RunProcess reads it after the
// pump has stopped.
type outputTail struct {
	max int
	// buf holds the bytes in order until it is full; from then on it is a
	// ring whose oldest byte is at w.
	buf   []byte
	w     int
	total int64 // bytes ever written
}

func (t *outputTail) write(p []byte) {
	t.total += int64(len(p))
	if len(t.buf) < t.max {
		n := min(len(p), t.max-len(t.buf))
		if cap(t.buf)-len(t.buf) < n {
			// Grow by doubling but never beyond max, which append alone
			// would not promise.
			nb := make([]byte, len(t.buf), min(t.max, max(2*cap(t.buf), len(t.buf)+n, 4096)))
			copy(nb, t.buf)
			t.buf = nb
		}
		t.buf = append(t.buf, p[:n]...)
		p = p[n:]
	}
	if len(p) == 0 {
		return
	}
	// Ring mode: buf is full.
	if len(p) >= t.max {
		copy(t.buf, p[len(p)-t.max:])
		t.w = 0
		return
	}
	n := copy(t.buf[t.w:], p)
	copy(t.buf, p[n:])
	t.w = (t.w + len(p)) % t.max
}

// truncated reports whether bytes were dropped from the front.
func (t *outputTail) truncated() bool { return t.total > int64(t.max) }

// String returns the kept bytes in order. When the front was dropped, the
// cut may have landed inside a UTF-8 sequence: the result then starts at
// the next rune boundary, so it is valid UTF-8 whenever what was written is.
func (t *outputTail) String() string {
	if !t.truncated() {
		return string(t.buf)
	}
	out := make([]byte, 0, len(t.buf))
	out = append(out, t.buf[t.w:]...)
	out = append(out, t.buf[:t.w]...)
	for i := 0; i < utf8.UTFMax && len(out) > 0 && !utf8.RuneStart(out[0]); i++ {
		out = out[1:]
	}
	return string(out)
}

// splitIncomplete returns how many bytes at the start of b can be sent now:
// all of b except a trailing UTF-8 sequence that is incomplete and could
// still become valid with the bytes that follow. Those bytes are carried to
// the next chunk so that no chunk splits a character (an output delta is a
// JSON string, where half a character would turn into U+FFFD).
func splitIncomplete(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			// FullRune is true for an invalid sequence too (it decodes as
			// one RuneError byte), so only a genuine prefix is held back.
			if !utf8.FullRune(b[i:]) {
				return i
			}
			return len(b)
		}
	}
	return len(b)
}

// validUTF8 returns a copy of b with each invalid byte sequence replaced by
// U+FFFD. The copy is fresh so that the receiver of a chunk may keep it.
func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return append([]byte(nil), b...)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

package termclient

import (
	"bufio"
	"io"
	"unicode/utf8"
)

// Keys that are not printable runes. Control keys are their ASCII codes;
// decoded escape sequences get negative values.
const (
	keyCtrlC     rune = 0x03
	keyCtrlD     rune = 0x04
	keyBackspace rune = 0x7f
	keyCtrlH     rune = 0x08
	keyCtrlL     rune = 0x0c
	keyCtrlU     rune = 0x15
	keyCtrlW     rune = 0x17
	keyEnter     rune = '\r'
	keyUp        rune = -1
	keyDown      rune = -2
)

// inputKind says what an inputEvent carries.
type inputKind int

const (
	inputKey  inputKind = iota + 1 // key: one keypress (raw terminal)
	inputLine                      // line: one line without its newline (not a terminal)
	inputEOF                       // the input ended (or failed)
)

// inputEvent is one unit of user input.
type inputEvent struct {
	kind inputKind
	key  rune
	line string
}

// readKeys is the goroutine that turns a raw terminal's bytes into key
// events. It ends with an inputEOF event when r fails.
func readKeys(r io.Reader, out chan<- inputEvent) {
	var d keyDecoder
	buf := make([]byte, 256)
	for {
		n, err := r.Read(buf)
		for _, k := range d.feed(buf[:n]) {
			out <- inputEvent{kind: inputKey, key: k}
		}
		if err != nil {
			out <- inputEvent{kind: inputEOF}
			return
		}
	}
}

// readLines is the goroutine that reads lines when stdin is not a terminal
// (scripts, pipes). A last line without a newline counts.
func readLines(r io.Reader, out chan<- inputEvent) {
	br := bufio.NewReader(r)
	for {
		s, err := br.ReadString('\n')
		if len(s) > 0 {
			n := len(s)
			if s[n-1] == '\n' {
				n--
				if n > 0 && s[n-1] == '\r' {
					n--
				}
			}
			out <- inputEvent{kind: inputLine, line: s[:n]}
		}
		if err != nil {
			out <- inputEvent{kind: inputEOF}
			return
		}
	}
}

// keyDecoder turns raw terminal bytes into keys: UTF-8 runes, control
// codes, and the arrow keys' escape sequences (other sequences are
// dropped). Bytes of an incomplete rune or sequence wait for the next feed.
type keyDecoder struct {
	pending []byte
}

func (d *keyDecoder) feed(b []byte) []rune {
	buf := append(d.pending, b...)
	d.pending = nil
	var keys []rune
	for len(buf) > 0 {
		if buf[0] == 0x1b {
			n, k, complete := decodeEscape(buf)
			if !complete {
				d.pending = append([]byte(nil), buf...)
				break
			}
			if k != 0 {
				keys = append(keys, k)
			}
			buf = buf[n:]
			continue
		}
		if !utf8.FullRune(buf) {
			d.pending = append([]byte(nil), buf...)
			break
		}
		r, n := utf8.DecodeRune(buf)
		if r == '\n' {
			r = keyEnter
		}
		if r == keyCtrlH {
			r = keyBackspace
		}
		keys = append(keys, r)
		buf = buf[n:]
	}
	return keys
}

// decodeEscape decodes the escape sequence at the start of b (b[0] is ESC).
// It returns its length and its key (0 for sequences the client ignores);
// complete is false when b ends inside the sequence. A lone ESC followed by
// something else is dropped.
func decodeEscape(b []byte) (n int, key rune, complete bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	switch b[1] {
	case '[', 'O':
		// CSI (or SS3): parameters and intermediates, then a final byte
		// in 0x40..0x7e.
		for i := 2; i < len(b); i++ {
			if b[i] >= 0x40 && b[i] <= 0x7e {
				switch b[i] {
				case 'A':
					key = keyUp
				case 'B':
					key = keyDown
				}
				return i + 1, key, true
			}
		}
		return 0, 0, false
	}
	return 1, 0, true // a lone ESC: drop it, keep what follows
}

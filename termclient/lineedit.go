package termclient

import (
	"strings"
	"unicode"
)

// lineEditor is the prompt line in raw mode: typing, Backspace, Ctrl-U,
// Ctrl-W and history with Up/Down. The session loop renders text() after
// each key.
type lineEditor struct {
	buf     []rune
	history []string
	// hpos is the history entry shown; len(history) is the line being
	// typed, saved in draft while browsing.
	hpos  int
	draft []rune
}

// text is the line being edited.
func (e *lineEditor) text() string { return string(e.buf) }

// clear empties the line.
func (e *lineEditor) clear() {
	e.buf = e.buf[:0]
	e.hpos = len(e.history)
}

// key applies one key. On Enter it returns the line, adds it to the history
// (unless empty or a repeat) and clears the editor.
func (e *lineEditor) key(k rune) (line string, entered bool) {
	switch k {
	case keyEnter:
		line = string(e.buf)
		if strings.TrimSpace(line) != "" && (len(e.history) == 0 || e.history[len(e.history)-1] != line) {
			e.history = append(e.history, line)
		}
		e.clear()
		return line, true
	case keyBackspace:
		if len(e.buf) > 0 {
			e.buf = e.buf[:len(e.buf)-1]
		}
	case keyCtrlU:
		e.buf = e.buf[:0]
	case keyCtrlW:
		i := len(e.buf)
		for i > 0 && e.buf[i-1] == ' ' {
			i--
		}
		for i > 0 && e.buf[i-1] != ' ' {
			i--
		}
		e.buf = e.buf[:i]
	case keyUp:
		if e.hpos > 0 {
			if e.hpos == len(e.history) {
				e.draft = append(e.draft[:0], e.buf...)
			}
			e.hpos--
			e.buf = []rune(e.history[e.hpos])
		}
	case keyDown:
		if e.hpos < len(e.history) {
			e.hpos++
			if e.hpos == len(e.history) {
				e.buf = append([]rune(nil), e.draft...)
			} else {
				e.buf = []rune(e.history[e.hpos])
			}
		}
	default:
		if k == '\t' {
			k = ' '
		}
		if k > 0 && unicode.IsPrint(k) {
			e.buf = append(e.buf, k)
		}
	}
	return "", false
}

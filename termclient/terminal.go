package termclient

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// fileFd returns the descriptor of v when it is an *os.File.
func fileFd(v any) (int, bool) {
	f, ok := v.(*os.File)
	if !ok || f == nil {
		return 0, false
	}
	return int(f.Fd()), true
}

// isTerminal reports whether v is an *os.File on a terminal.
func isTerminal(v any) bool {
	fd, ok := fileFd(v)
	return ok && term.IsTerminal(fd)
}

// colorEnabled reports whether output to w should be coloured: w is a
// terminal and NO_COLOR is unset or empty (https://no-color.org).
func colorEnabled(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == ""
}

// makeRaw puts the terminal stdin is on into raw mode (keys one at a time,
// no echo, no signals from Ctrl-C) and returns the function that restores
// it.
func makeRaw(stdin any) (restore func(), err error) {
	fd, _ := fileFd(stdin)
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() { term.Restore(fd, old) }, nil
}

// crlfWriter turns "\n" into "\r\n": a terminal in raw mode does not do it
// (no output post-processing), so without it lines would staircase.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\n') < 0 {
		return c.w.Write(p)
	}
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

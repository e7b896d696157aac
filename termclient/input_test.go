package termclient

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeyDecoder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []rune
	}{
		{"letters", []string{"as"}, []rune{'a', 's'}},
		{"controls", []string{"\x03\x04\r\x7f\x08"}, []rune{keyCtrlC, keyCtrlD, keyEnter, keyBackspace, keyBackspace}},
		{"newline is enter", []string{"\n"}, []rune{keyEnter}},
		{"arrows", []string{"\x1b[A\x1b[B\x1bOA"}, []rune{keyUp, keyDown, keyUp}},
		{"other sequences dropped", []string{"\x1b[C\x1b[3~x"}, []rune{'x'}},
		{"sequence split across reads", []string{"\x1b", "[", "A"}, []rune{keyUp}},
		{"utf-8 split across reads", []string{"\xc3", "\xa9"}, []rune{'é'}},
		{"lone escape dropped", []string{"\x1bx"}, []rune{'x'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d keyDecoder
			var got []rune
			for _, c := range tc.chunks {
				got = append(got, d.feed([]byte(c))...)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestReadLines(t *testing.T) {
	ch := make(chan inputEvent, 10)
	readLines(strings.NewReader("s\r\n/grants\nlast"), ch)
	var got []string
	for len(ch) > 0 {
		ev := <-ch
		if ev.kind == inputEOF {
			got = append(got, "EOF")
		} else {
			got = append(got, ev.line)
		}
	}
	if d := cmp.Diff([]string{"s", "/grants", "last", "EOF"}, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

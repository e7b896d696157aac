package termclient

import "testing"

func typeKeys(e *lineEditor, s string) {
	for _, r := range s {
		e.key(r)
	}
}

func TestLineEditor(t *testing.T) {
	var e lineEditor
	typeKeys(&e, "echo helo")
	e.key(keyBackspace)
	typeKeys(&e, "lo")
	if e.text() != "echo hello" {
		t.Fatalf("text %q", e.text())
	}
	e.key(keyCtrlW)
	if e.text() != "echo " {
		t.Fatalf("after Ctrl-W %q", e.text())
	}
	typeKeys(&e, "one")
	if line, ok := e.key(keyEnter); !ok || line != "echo one" || e.text() != "" {
		t.Fatalf("enter: %q %v, left %q", line, ok, e.text())
	}
	typeKeys(&e, "ls")
	e.key(keyEnter)
	typeKeys(&e, "dra")
	e.key(keyUp)
	if e.text() != "ls" {
		t.Fatalf("up: %q", e.text())
	}
	e.key(keyUp)
	e.key(keyUp) // stays at the oldest
	if e.text() != "echo one" {
		t.Fatalf("up up: %q", e.text())
	}
	e.key(keyDown)
	e.key(keyDown)
	if e.text() != "dra" {
		t.Fatalf("down to the draft: %q", e.text())
	}
	e.key(keyCtrlU)
	e.key(keyCtrlC) // not printable: ignored
	if e.text() != "" {
		t.Fatalf("Ctrl-U: %q", e.text())
	}
	if _, ok := e.key(keyEnter); !ok || len(e.history) != 2 {
		t.Errorf("empty line added to history: %q", e.history)
	}
}

package benchfmt

import (
	"bufio"
	"strings"
	"testing"
)

// Call skips the notifications and server requests before its response,
// and a response to another id is an error.
func TestClientCall(t *testing.T) {
	var sent strings.Builder
	in := `{"method":"note","params":{}}` + "\n" + `{"id":"x","method":"ask","params":{}}` + "\n" +
		`{"id":0,"result":{"ok":true}}` + "\n" + `{"id":7,"result":{}}` + "\n"
	c := &Client{W: bufio.NewWriter(&sent), R: bufio.NewReader(strings.NewReader(in)), Stderr: &Tail{}}
	m, err := c.Call("m", `{"a":1}`)
	if err != nil || string(m.Result) != `{"ok":true}` {
		t.Fatalf("Call: %+v, %v", m, err)
	}
	if want := `{"id":0,"method":"m","params":{"a":1}}` + "\n"; sent.String() != want {
		t.Errorf("sent %q, want %q", sent.String(), want)
	}
	if _, err := c.Call("m", `{}`); err == nil || !strings.Contains(err.Error(), "response to 7 while waiting for 1") {
		t.Errorf("a response to another id: %v", err)
	}
}

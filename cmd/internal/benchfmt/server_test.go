package benchfmt

import (
	"os/exec"
	"strings"
	"testing"
)

// A command's own Stderr keeps receiving what the server writes there,
// and the tail keeps it too.
func TestStartKeepsTheCommandsStderr(t *testing.T) {
	var own strings.Builder
	cmd := exec.Command("sh", "-c", "echo oops >&2")
	cmd.Stderr = &own
	s, err := Start(cmd, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if own.String() != "oops\n" || s.Stderr.String() != "oops\n" {
		t.Errorf("cmd.Stderr got %q, tail %q; want both %q", own.String(), s.Stderr.String(), "oops\n")
	}
}

package sandbox

import (
	"strings"
	"testing"
)

func TestSeatbeltProfileWorkspaceWrite(t *testing.T) {
	p := Policy{
		Mode:          WorkspaceWrite,
		WritableRoots: []string{"/work/a \"b\"", "/tmp"},
		ReadOnlyPaths: []string{"/work/a \"b\"/.git", "/Users/me/.app-server"},
		Network:       NetworkProxy,
		Proxy:         &ProxySockets{HTTPPort: 4100, SOCKSPort: 4101},
	}
	got := SeatbeltProfile(p)
	want := `(version 1)
(allow default)
(deny file-write*)
(allow file-write*
  (literal "/dev/null")
  (literal "/dev/zero")
  (literal "/dev/full")
  (literal "/dev/random")
  (literal "/dev/urandom")
  (literal "/dev/tty")
  (literal "/dev/ptmx")
  (regex #"^/dev/ttys[0-9]+$")
  (regex #"^/dev/fd/[0-9]+$"))
(allow file-write*
  (subpath "/work/a \"b\"")
  (subpath "/tmp"))
(deny file-write*
  (subpath "/work/a \"b\"/.git")
  (subpath "/Users/me/.app-server"))
(deny network*)
(allow network-outbound
  (remote ip "localhost:4100")
  (remote ip "localhost:4101"))
`
	if got != want {
		t.Errorf("profile:\n%s\nwant:\n%s", got, want)
	}
}

func TestSeatbeltProfileReadOnlyNoNetwork(t *testing.T) {
	got := SeatbeltProfile(Policy{Mode: ReadOnly, WritableRoots: []string{"/ignored"}, Network: NetworkNone})
	if strings.Contains(got, "subpath") || strings.Contains(got, "network-outbound") {
		t.Errorf("read-only without network grants writes or network:\n%s", got)
	}
	if !strings.Contains(got, "(deny file-write*)\n") || !strings.Contains(got, "(deny network*)\n") {
		t.Errorf("profile does not deny writes and network:\n%s", got)
	}
	// The rules that deny come after "allow default", so they win.
	if strings.Index(got, "(allow default)") > strings.Index(got, "(deny file-write*)") {
		t.Errorf("deny before allow default:\n%s", got)
	}
}

package e2e

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// processesWith returns the pids (as this test sees them) of the processes
// whose argv contains marker, waiting up to a second for dying ones to go:
// a sandboxed command's own pids are its pid namespace's, so tests find
// its processes by a marker instead.
func processesWith(marker string) []int {
	deadline := time.Now().Add(time.Second)
	for {
		var pids []int
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
			if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
				continue
			}
			stat, err := os.ReadFile(filepath.Join(d, "stat"))
			if i := bytes.LastIndexByte(stat, ')'); err != nil || (i > 0 && i+2 < len(stat) && stat[i+2] == 'Z') {
				continue // gone, or a zombie
			}
			pid, _ := strconv.Atoi(filepath.Base(d))
			if pid != os.Getpid() {
				pids = append(pids, pid)
			}
		}
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// proxyListening is the server's log line naming its proxy's TCP
// addresses.
var proxyListening = regexp.MustCompile(`msg="network proxy listening" .*http=(\S+) socks5=(\S+)`)

// startProxy runs one command in thread th, so that the managed proxy,
// which starts with the first command that needs it, is listening (and
// has logged its addresses) before a test reads them.
func (s *server) startProxy(th string) {
	s.t.Helper()
	s.startTurn(th, "true")
	s.runFlow(nil)
}

// outsideProxyURL turns a proxy URL that a sandboxed command sees (its
// relay's port inside the sandbox) into the managed proxy's URL outside,
// with the same credential, for tests that speak to the proxy for a
// command.
func (s *server) outsideProxyURL(inside string) string {
	s.t.Helper()
	s.waitForLog(`msg="network proxy listening"`, 5*time.Second)
	m := proxyListening.FindStringSubmatch(s.stderrText())
	if m == nil {
		s.t.Fatalf("no proxy addresses in the server's log")
	}
	u, err := url.Parse(inside)
	if err != nil {
		s.t.Fatalf("proxy URL %q: %v", inside, err)
	}
	if u.Scheme == "http" {
		u.Host = m[1]
	} else {
		u.Host = m[2]
	}
	return u.String()
}

// outsideDir is a directory outside every writable root of a sandboxed
// command (not under /tmp, which workspace-write may write), removed when
// the test ends.
func outsideDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

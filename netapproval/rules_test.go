package netapproval

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestRulesPersistAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.toml")
	r, err := OpenRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddHostRule("Example.COM.", ActionAllow); err != nil {
		t.Fatal(err)
	}
	if err := r.AddHostRule("bad.test", ActionDeny); err != nil {
		t.Fatal(err)
	}
	if err := r.AddHostRule("example.com", ActionAllow); err != nil { // duplicate: no change
		t.Fatal(err)
	}

	r2, err := OpenRules(path)
	if err != nil {
		t.Fatal(err)
	}
	hosts := r2.HostRules()
	if len(hosts) != 2 || hosts[0].Host != "example.com" || hosts[0].Action != ActionAllow ||
		hosts[1].Host != "bad.test" || hosts[1].Action != ActionDeny || hosts[0].AddedAt.IsZero() {
		t.Errorf("reloaded host rules = %+v", hosts)
	}
	if err := r.AddHostRule("*", ActionDeny); err == nil {
		t.Error("deny * accepted")
	}
}

// Two Rules on one file stand for two servers on one home: each change
// rereads under the lock, so neither loses the other's rules.
func TestRulesTwoWritersNeverLoseRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.toml")
	a, err := OpenRules(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenRules(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const n = 10
	for i := range n {
		wg.Go(func() {
			if err := a.AddHostRule("a"+string(rune('a'+i))+".test", ActionAllow); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := b.AddHostRule("b"+string(rune('a'+i))+".test", ActionDeny); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c, err := OpenRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.HostRules()); got != 2*n {
		t.Errorf("host rules = %d, want %d", got, 2*n)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("leftover temp file %s", e.Name())
		}
	}
}

func TestRulesCorruptFileIsAnError(t *testing.T) {
	tests := []struct {
		name, text string
		wantLine   string
	}{
		{"syntax", "[[network]]\nhost = \"a.test\"\naction = allow\n", "line 3"},
		{"unknown key", "[[network]]\nhost = \"a.test\"\naction = \"allow\"\ncolor = \"red\"\n", "line 4"},
		{"bad action", "[[network]]\nhost = \"a.test\"\naction = \"allow\"\n\n[[network]]\nhost = \"b.test\"\naction = \"maybe\"\n", "line "},
		{"deny star", "[[network]]\nhost = \"ok.test\"\naction = \"deny\"\n[[network]]\nhost = \"*\"\naction = \"deny\"\n", "line 4"},
		{"bad host", "[[network]]\nhost = \"bad host\"\naction = \"allow\"\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rules.toml")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := OpenRules(path)
			if err == nil {
				t.Fatal("corrupt rules file accepted")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantLine) {
				t.Errorf("error %q does not name the file and %q", err, tt.wantLine)
			}
			// The file is never replaced.
			if got, _ := os.ReadFile(path); string(got) != tt.text {
				t.Errorf("file changed to %q", got)
			}
		})
	}
}

// A corrupt file stops changes too: rewriting it from memory would drop
// whatever the user wrote.
func TestRulesCorruptFileBlocksWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.toml")
	r, err := OpenRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddHostRule("a.test", ActionAllow); err != nil {
		t.Fatal(err)
	}
	const corrupt = "[[network]]\nhost = \"a.test\"\naction = \n"
	if err := os.WriteFile(path, []byte(corrupt), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.AddHostRule("b.test", ActionAllow); err == nil {
		t.Fatal("write over a corrupt file succeeded")
	}
	if got, _ := os.ReadFile(path); string(got) != corrupt {
		t.Errorf("corrupt file rewritten: %q", got)
	}
}

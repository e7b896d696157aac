package netapproval

import (
	"os"
	"path/filepath"
	"slices"
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
	if err := r.AddCommandRule([]string{"git", "push"}, CommandForbidden); err != nil {
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
	cmds := r2.CommandRules()
	if len(cmds) != 1 || !slices.Equal(cmds[0].Prefix, []string{"git", "push"}) || cmds[0].Decision != CommandForbidden {
		t.Errorf("reloaded command rules = %+v", cmds)
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
			if err := b.AddCommandRule([]string{"cmd", string(rune('a' + i))}, CommandAllow); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c, err := OpenRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.HostRules()); got != n {
		t.Errorf("host rules = %d, want %d", got, n)
	}
	if got := len(c.CommandRules()); got != n {
		t.Errorf("command rules = %d, want %d", got, n)
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
		{"empty prefix", "[[command]]\nprefix = []\ndecision = \"allow\"\n", "line 1"},
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

func TestMatchCommand(t *testing.T) {
	r, _ := OpenRules("")
	r.AddCommandRule([]string{"git"}, CommandAllow)
	r.AddCommandRule([]string{"git", "push"}, CommandForbidden)
	r.AddCommandRule([]string{"npm", "install"}, CommandAllow)
	tests := []struct {
		argv   []string
		want   CommandDecision
		wantOK bool
	}{
		{[]string{"git", "status"}, CommandAllow, true},
		{[]string{"git", "push", "origin"}, CommandForbidden, true},
		{[]string{"npm", "install", "x"}, CommandAllow, true},
		{[]string{"npm"}, 0, false},
		{[]string{"gitx"}, 0, false},
		{nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := r.MatchCommand(tt.argv)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("MatchCommand(%q) = %v, %v; want %v, %v", tt.argv, got, ok, tt.want, tt.wantOK)
		}
	}
}

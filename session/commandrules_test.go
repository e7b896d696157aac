package session

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"app-server/netapproval"
)

func TestForbiddenRuleMatchesAnySegment(t *testing.T) {
	rules, err := OpenCommandRules("")
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.Add([]string{"rm", "-rf"}, CommandForbidden); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"rm -rf build", true},
		{"make && rm -rf build", true},
		{"echo hi; rm -rf /tmp/x", true},
		{"ls | rm -rf x", true},
		{"FOO=1 rm -rf x", true},
		{"echo $(rm -rf x)", true},
		{"(cd x && rm -rf y)", true},
		{"if true; then rm -rf x; fi", true},
		{"rm -rf x 2>/dev/null", true},
		{"rm -r build", false},
		{"echo 'rm -rf x'", false},
		{"make", false},
		{"rm -rf 'unbalanced", true}, // cannot be split: its words are checked
	} {
		if got := forbiddenByRule(rules, tc.line); got != tc.want {
			t.Errorf("forbiddenByRule(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestCommandRulesMatch(t *testing.T) {
	r, _ := OpenCommandRules("")
	r.Add([]string{"git"}, CommandAllow)
	r.Add([]string{"git", "push"}, CommandForbidden)
	r.Add([]string{"npm", "install"}, CommandAllow)
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
		got, ok := r.Match(tt.argv)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Match(%q) = %v, %v; want %v, %v", tt.argv, got, ok, tt.want, tt.wantOK)
		}
	}
}

// Two servers on one home, each with its network rules (netapproval) and
// its command rules (session) on the one rules file, all four adding at
// once: every change rereads under the one lock and keeps the other
// section, so no rule is lost.
func TestRulesFileSharedByTwoServersNeverLosesRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.toml")
	var nets []*netapproval.Rules
	var cmds []*CommandRules
	for range 2 {
		n, err := netapproval.OpenRules(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := OpenCommandRules(path)
		if err != nil {
			t.Fatal(err)
		}
		nets, cmds = append(nets, n), append(cmds, c)
	}
	var wg sync.WaitGroup
	const n = 8
	for i := range n {
		for s := range 2 {
			name := string(rune('a'+s)) + string(rune('a'+i))
			wg.Go(func() {
				if err := nets[s].AddHostRule(name+".test", netapproval.ActionAllow); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				if err := cmds[s].Add([]string{"cmd", name}, CommandAllow); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	net, err := netapproval.OpenRules(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := OpenCommandRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(net.HostRules()); got != 2*n {
		t.Errorf("network rules = %d, want %d", got, 2*n)
	}
	for s := range 2 {
		for i := range n {
			name := string(rune('a'+s)) + string(rune('a'+i))
			if d, ok := cmd.Match([]string{"cmd", name}); !ok || d != CommandAllow {
				t.Errorf("command rule %s lost", name)
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("leftover temp file %s", e.Name())
		}
	}
}

func TestCommandRulesPersistAndBadEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.toml")
	r, err := OpenCommandRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add([]string{"git", "push"}, CommandForbidden); err != nil {
		t.Fatal(err)
	}
	if err := r.Add([]string{"git", "push"}, CommandForbidden); err != nil { // duplicate: no change
		t.Fatal(err)
	}
	r2, err := OpenCommandRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := r2.Match([]string{"git", "push", "x"}); !ok || d != CommandForbidden {
		t.Errorf("reloaded rule: %v, %v", d, ok)
	}
	if got := *r2.cur.Load(); len(got) != 1 || !slices.Equal(got[0].Prefix, []string{"git", "push"}) || got[0].AddedAt.IsZero() {
		t.Errorf("reloaded rules = %+v", got)
	}

	for _, tc := range []struct{ name, text, want string }{
		{"empty prefix", "[[command]]\nprefix = []\ndecision = \"allow\"\n", "line 1"},
		{"bad decision", "[[network]]\nhost = \"a.test\"\naction = \"allow\"\n[[command]]\nprefix = [\"x\"]\ndecision = \"maybe\"\n", "line 4"},
		{"unknown key", "[[command]]\nprefix = [\"x\"]\ndecision = \"allow\"\ncolor = 1\n", "line 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rules.toml")
			os.WriteFile(path, []byte(tc.text), 0o600)
			_, err := OpenCommandRules(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v does not name the file and %q", err, tc.want)
			}
		})
	}
}

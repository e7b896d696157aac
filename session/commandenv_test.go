package session

import (
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The server's environment in TestEnvPolicy: credentials in several
// spellings, core variables in odd cases, and plain ones.
var testServerEnv = []string{
	"PATH=/usr/bin", "HOME=/home/u", "Lc_Ctype=C", "USERNAME=u", "USER=u",
	"OPENAI_API_KEY=k1", "my_api_key=k2", "DB_SECRET_X=s", "GitHub_Token=t", "KEYRING=r",
	"PLAIN=p", "PLAIX=x", "[P]LAIN=b", "AWS_REGION=eu", "AWS_PROFILE=dev",
}

func TestEnvPolicy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Fatal("TestEnvPolicy's core lists are Unix's; it needs a Windows table")
	}
	tests := []struct {
		name string
		p    EnvPolicy
		want []string
	}{
		{name: "zero value: everything (Codex's default)", p: EnvPolicy{}, want: testServerEnv},
		{
			name: "default excludes: KEY, SECRET, TOKEN anywhere in the name, any case",
			p:    EnvPolicy{ExcludeSecrets: true},
			want: []string{"PATH=/usr/bin", "HOME=/home/u", "Lc_Ctype=C", "USERNAME=u", "USER=u", "PLAIN=p", "PLAIX=x", "[P]LAIN=b", "AWS_REGION=eu", "AWS_PROFILE=dev"},
		},
		{
			name: "core: Codex 0.169.0's Unix list, names compared ignoring case, no USERNAME",
			p:    EnvPolicy{Inherit: InheritCore},
			want: []string{"PATH=/usr/bin", "HOME=/home/u", "Lc_Ctype=C", "USER=u"},
		},
		{name: "none", p: EnvPolicy{Inherit: InheritNone}, want: []string{}},
		{
			name: "exclude: globs over the whole name, any case",
			p:    EnvPolicy{Exclude: []string{"aws_*", "*_key", "plai?", "GitHub_Token", "[P]*"}},
			want: []string{"PATH=/usr/bin", "HOME=/home/u", "Lc_Ctype=C", "USERNAME=u", "USER=u", "DB_SECRET_X=s", "KEYRING=r"},
		},
		{
			name: "brackets are plain characters",
			p:    EnvPolicy{Inherit: InheritNone, Set: map[string]string{"PLAIN": "1", "[P]LAIN": "2"}, IncludeOnly: []string{"[P]LAIN"}},
			want: []string{"[P]LAIN=2"},
		},
		{
			name: "set comes after the excludes: a set KEY survives them",
			p:    EnvPolicy{ExcludeSecrets: true, Exclude: []string{"PLAIN", "NEW*"}, Inherit: InheritNone, Set: map[string]string{"PLAIN": "s", "NEW_TOKEN": "n"}},
			want: []string{"NEW_TOKEN=n", "PLAIN=s"},
		},
		{
			name: "set replaces an inherited value",
			p:    EnvPolicy{Inherit: InheritCore, Set: map[string]string{"HOME": "/tmp/h", "CI": "1"}},
			want: []string{"PATH=/usr/bin", "Lc_Ctype=C", "USER=u", "CI=1", "HOME=/tmp/h"},
		},
		{
			name: "include_only comes last: it drops set's variables too",
			p:    EnvPolicy{Set: map[string]string{"A": "1", "B": "2"}, IncludeOnly: []string{"a", "path", "home"}},
			want: []string{"PATH=/usr/bin", "HOME=/home/u", "A=1"},
		},
		{
			name: "include_only does not bring back what an exclude dropped",
			p:    EnvPolicy{ExcludeSecrets: true, Exclude: []string{"PLAI*"}, IncludeOnly: []string{"PLAIN", "*KEY*", "PATH"}},
			want: []string{"PATH=/usr/bin"},
		},
		{
			name: "core, then excludes, then include_only",
			p:    EnvPolicy{Inherit: InheritCore, ExcludeSecrets: true, Exclude: []string{"user"}, IncludeOnly: []string{"*"}},
			want: []string{"PATH=/usr/bin", "HOME=/home/u", "Lc_Ctype=C"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Apply(testServerEnv)
			if got == nil {
				t.Fatal("Apply returned nil: the command would get the server's whole environment")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvPolicyEmpty(t *testing.T) {
	if got := (EnvPolicy{}).Apply(nil); got == nil || len(got) != 0 {
		t.Errorf("Apply(nil) = %#v, want an empty, non-nil environment", got)
	}
}

func TestMatchEnvPattern(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"PATH", "PATH", true},
		{"path", "PATH", true},
		{"PATH", "PATHEXT", false},
		{"*", "", true},
		{"*", "ANY", true},
		{"", "", true},
		{"", "A", false},
		{"?", "", false},
		{"?", "A", true},
		{"??", "A", false},
		{"*KEY*", "KEY", true},
		{"*KEY*", "OPENAI_API_KEY", true},
		{"*KEY*", "keyring", true},
		{"*KEY*", "KE_Y", false},
		{"A*B*C", "AxxBxxBxxC", true},
		{"A*B*C", "AxxBxxCxxB", false},
		{"*_*_*", "A_B", false},
		{"a?c*", "ABCDEF", true},
		{"[AB]", "A", false},
		{"[AB]", "[ab]", true},
		{`A\*`, `a\xyz`, true}, // a backslash is a plain character too
		{`A\*`, `a*`, false},
		{"ÉTÉ*", "été_1", true},
		{"?T?", "ÉTÉ", true},
	}
	for _, tt := range tests {
		if got := matchEnvPattern(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchEnvPattern(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestParseEnvInherit(t *testing.T) {
	for s, want := range map[string]EnvInherit{"all": InheritAll, "core": InheritCore, "none": InheritNone} {
		if got, err := ParseEnvInherit(s); err != nil || got != want {
			t.Errorf("ParseEnvInherit(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Core", "ALL", "some"} {
		if _, err := ParseEnvInherit(s); err == nil || err.Error() != "want one of all, core, none" {
			t.Errorf("ParseEnvInherit(%q): err = %v", s, err)
		}
	}
}

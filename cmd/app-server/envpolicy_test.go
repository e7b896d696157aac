package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"app-server/session"
)

// [shell_environment_policy] as Codex 0.169.0 reads it: what each key
// becomes in the session's policy, and the errors of bad values, which name
// the key (Codex 0.169.0's CLI refuses the same values; unlike Codex, an
// unknown key in the table is an error too, as everywhere here).
func TestShellEnvironmentPolicyConfig(t *testing.T) {
	tests := []struct {
		name      string
		file      string // "-" for no file
		overrides []string
		want      session.EnvPolicy
		wantErr   string
	}{
		// Codex 0.169.0 passes everything by default: ignore_default_excludes
		// defaults to true there (checked against the binary).
		{name: "no file: the whole environment", file: "-", want: session.EnvPolicy{}},
		{name: "empty table", file: "[shell_environment_policy]", want: session.EnvPolicy{}},
		{name: "default excludes on", file: "[shell_environment_policy]\nignore_default_excludes = false", want: session.EnvPolicy{ExcludeSecrets: true}},
		{
			name: "every key",
			file: `[shell_environment_policy]
inherit = "core"
ignore_default_excludes = false
exclude = ["AWS_*", "AZURE_*"]
set = { CI = "1", PATH = "/usr/bin" }
include_only = ["PATH", "HOME", "CI"]
experimental_use_profile = true
`,
			want: session.EnvPolicy{
				Inherit: session.InheritCore, ExcludeSecrets: true, Exclude: []string{"AWS_*", "AZURE_*"},
				Set: map[string]string{"CI": "1", "PATH": "/usr/bin"}, IncludeOnly: []string{"PATH", "HOME", "CI"},
			},
		},
		{name: "inherit none", file: "[shell_environment_policy]\ninherit = \"none\"", want: session.EnvPolicy{Inherit: session.InheritNone}},
		{
			name: "filters: include_only and exclude in one table",
			file: "[shell_environment_policy]\nfilters = { \"PATH\" = \"include\", \"AWS_*\" = \"exclude\", \"HOME\" = \"include\" }",
			want: session.EnvPolicy{Exclude: []string{"AWS_*"}, IncludeOnly: []string{"HOME", "PATH"}},
		},
		{
			name: "-c adds to the file's set",
			file: "[shell_environment_policy]\nset = { A = \"1\" }", overrides: []string{`shell_environment_policy.set.B="2"`, "shell_environment_policy.inherit=none"},
			want: session.EnvPolicy{Inherit: session.InheritNone, Set: map[string]string{"A": "1", "B": "2"}},
		},
		{name: "bad inherit", file: "[shell_environment_policy]\ninherit = \"some\"", wantErr: `config.toml: shell_environment_policy.inherit = "some": want one of all, core, none`},
		{name: "inherit is lower case", file: "[shell_environment_policy]\ninherit = \"Core\"", wantErr: `shell_environment_policy.inherit = "Core": want one of all, core, none`},
		{name: "non-string in set", file: "[shell_environment_policy]\nset = { A = 1 }", wantErr: "config.toml:2: shell_environment_policy.set: want a table of strings (got a TOML integer)"},
		{name: "non-string in set, dotted", file: "shell_environment_policy.set.A = true", wantErr: "config.toml:1: shell_environment_policy.set.A: want a string (got a TOML boolean)"},
		{name: "set is a table", file: "[shell_environment_policy]\nset = [\"A=1\"]", wantErr: "config.toml:2: shell_environment_policy.set: want a table of strings (got a TOML array)"},
		{name: "exclude is an array", file: "[shell_environment_policy]\nexclude = \"AWS_*\"", wantErr: "config.toml:2: shell_environment_policy.exclude: want an array of strings (got a TOML string)"},
		{name: "ignore_default_excludes is a bool", file: "[shell_environment_policy]\nignore_default_excludes = \"no\"", wantErr: "config.toml:2: shell_environment_policy.ignore_default_excludes: want true or false (got a TOML string)"},
		{name: "the table is a table", file: "shell_environment_policy = \"core\"", wantErr: "config.toml:1: shell_environment_policy: want a table (got a TOML string)"},
		{name: "unknown key", file: "[shell_environment_policy]\nignore_default_exclude = false", wantErr: `config.toml:2: unknown key "shell_environment_policy.ignore_default_exclude" (did you mean shell_environment_policy.ignore_default_excludes?)`},
		{name: "filters with exclude", file: "[shell_environment_policy]\nfilters = {}\nexclude = []", wantErr: "shell_environment_policy: filters cannot be mixed with exclude or include_only"},
		{name: "filters with include_only", file: "[shell_environment_policy]\nfilters = { \"A\" = \"include\" }\ninclude_only = [\"B\"]", wantErr: "shell_environment_policy: filters cannot be mixed with exclude or include_only"},
		{name: "filters: bad action", file: "[shell_environment_policy]\nfilters = { \"A*\" = \"drop\" }", wantErr: `shell_environment_policy.filters: "A*" = "drop": want include or exclude`},
		{name: "filters: the same pattern twice", file: "[shell_environment_policy]\nfilters = { \"aws_*\" = \"include\", \"AWS_*\" = \"exclude\" }", wantErr: `shell_environment_policy.filters: "AWS_*" and "aws_*" are the same pattern (patterns ignore case)`},
		{name: "-c bad inherit", file: "-", overrides: []string{"shell_environment_policy.inherit=some"}, wantErr: `-c shell_environment_policy.inherit=some: shell_environment_policy.inherit = "some": want one of all, core, none`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := loadTestConfig(t, tt.file+"\n", tt.overrides)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.ShellEnvironmentPolicy.EnvPolicy()); diff != "" {
				t.Errorf("EnvPolicy (-want +got):\n%s", diff)
			}
		})
	}
}

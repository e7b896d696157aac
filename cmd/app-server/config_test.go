package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"app-server/netapproval"
	"app-server/protocol"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name      string
		file      string // config.toml; "-" for no file
		overrides []string
		want      func(c *Config) // edits the defaults into the expected config
		wantErr   []string        // substrings of the error, in any order
	}{
		{name: "no file", file: "-", want: func(*Config) {}},
		{name: "empty file", file: "", want: func(*Config) {}},
		{
			name: "every key",
			file: `approval_policy = "untrusted"
sandbox = "read-only"
shell = ["/bin/bash", "-lc"]

[network]
enabled = false
mode = "limited"
allowed_domains = ["example.com", "*.github.com"]
denied_domains = ["evil.example"]
allow_local_binding = true
approval_timeout_ms = 1500
approval_timeout_default = "accept"
`,
			want: func(c *Config) {
				c.ApprovalPolicy = protocol.ApprovalUntrusted
				c.Sandbox = protocol.SandboxReadOnly
				c.Shell = []string{"/bin/bash", "-lc"}
				c.Network = NetworkConfig{
					Enabled: false, Mode: "limited",
					AllowedDomains: []string{"example.com", "*.github.com"}, DeniedDomains: []string{"evil.example"},
					AllowLocalBinding: true, ApprovalTimeoutMs: 1500, ApprovalTimeoutDefault: "accept",
				}
			},
		},
		{
			name: "dotted keys",
			file: "network.mode = \"limited\"\n",
			want: func(c *Config) { c.Network.Mode = "limited" },
		},
		{
			name:    "unknown top-level key",
			file:    "approval_policy = \"never\"\nsandbox_modes = \"read-only\"\n",
			wantErr: []string{"config.toml:2:", `unknown key "sandbox_modes" (did you mean sandbox_mode?)`},
		},
		{
			name:    "unknown network key",
			file:    "[network]\nenabled = true\n\nmod = \"limited\"\n",
			wantErr: []string{"config.toml:4:", `unknown key "network.mod"`},
		},
		{
			name:    "two unknown keys",
			file:    "foo = 1\n[network]\nbar = 2\n",
			wantErr: []string{`config.toml:1: unknown key "foo"`, `config.toml:3: unknown key "network.bar"`},
		},
		{
			name:    "unknown table",
			file:    "[proxy]\nport = 1\n",
			wantErr: []string{"config.toml:", `unknown key "proxy`},
		},
		{
			name:    "syntax error",
			file:    "approval_policy = \n",
			wantErr: []string{"config.toml:1:"},
		},
		{
			name:    "wrong type",
			file:    "\n[network]\nenabled = \"yes\"\n",
			wantErr: []string{"config.toml:3:", "network.enabled: want true or false (got a TOML string)"},
		},
		{
			name:    "bad approval policy",
			file:    "approval_policy = \"sometimes\"\n",
			wantErr: []string{"config.toml", `approval_policy = "sometimes"`, "untrusted, on-request, never"},
		},
		{
			name:    "bad sandbox",
			file:    "sandbox = \"none\"\n",
			wantErr: []string{`sandbox = "none"`, "read-only, workspace-write, danger-full-access"},
		},
		{
			name:    "bad network mode",
			file:    "[network]\nmode = \"open\"\n",
			wantErr: []string{`network.mode = "open"`, "full or limited"},
		},
		{
			name:    "bad timeout default",
			file:    "[network]\napproval_timeout_default = \"allow\"\n",
			wantErr: []string{`network.approval_timeout_default = "allow"`},
		},
		{
			name:    "negative timeout",
			file:    "[network]\napproval_timeout_ms = -1\n",
			wantErr: []string{"network.approval_timeout_ms = -1"},
		},
		{
			name:    "deny everything",
			file:    "[network]\ndenied_domains = [\"*\"]\n",
			wantErr: []string{"network.denied_domains", `"*"`},
		},
		{
			name:    "empty shell",
			file:    "shell = []\n",
			wantErr: []string{"shell = []", "must name a program"},
		},
		{
			name:      "overrides: bare string, bool, integer, array",
			file:      "-",
			overrides: []string{"network.mode=limited", "network.enabled=false", "network.approval_timeout_ms=5000", `shell=["zsh", "-c"]`, "approval_policy=never"},
			want: func(c *Config) {
				c.Network.Mode = "limited"
				c.Network.Enabled = false
				c.Network.ApprovalTimeoutMs = 5000
				c.Shell = []string{"zsh", "-c"}
				c.ApprovalPolicy = protocol.ApprovalNever
			},
		},
		{
			name:      "overrides apply over the file, in order",
			file:      "approval_policy = \"untrusted\"\n[network]\nallowed_domains = [\"a.example\"]\n",
			overrides: []string{"approval_policy=never", `approval_policy="on-request"`, `network.allowed_domains=["b.example"]`},
			want: func(c *Config) {
				c.ApprovalPolicy = protocol.ApprovalOnRequest
				c.Network.AllowedDomains = []string{"b.example"}
			},
		},
		{
			name:      "override with a value that is not TOML is a string",
			file:      "-",
			overrides: []string{"shell=[oops"},
			wantErr:   []string{"-c shell=[oops: shell = [oops: want an array of strings (got a TOML string)"},
		},
		{
			name:      "override unknown key",
			file:      "-",
			overrides: []string{"network.modes=limited"},
			wantErr:   []string{"-c network.modes=limited", `unknown key "network.modes"`},
		},
		{
			name:      "override bad value",
			file:      "-",
			overrides: []string{"network.mode=open"},
			wantErr:   []string{"-c network.mode=open", `network.mode = "open"`},
		},
		{
			name:      "override bad policy",
			file:      "-",
			overrides: []string{"approval_policy=sometimes"},
			wantErr:   []string{"-c approval_policy=sometimes", `approval_policy = "sometimes"`},
		},
		{
			name:      "override wrong type",
			file:      "-",
			overrides: []string{"network.enabled=yes"},
			wantErr:   []string{"-c network.enabled=yes: network.enabled = yes: want true or false (got a TOML string)"},
		},
		{
			name:      "override table with a scalar",
			file:      "-",
			overrides: []string{"network=1"},
			wantErr:   []string{"-c network=1: network = 1: want a table"},
		},
		{
			name:      "override bad key",
			file:      "-",
			overrides: []string{"network..mode=full"},
			wantErr:   []string{"-c network..mode=full", "bad key"},
		},
		{
			name:      "override deny everything",
			file:      "-",
			overrides: []string{`network.denied_domains=["*"]`},
			wantErr:   []string{`-c network.denied_domains=["*"]`, "denied_domains"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := loadTestConfig(t, tt.file, tt.overrides)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("loadConfig succeeded with %+v, want an error containing %q", got, tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaultConfig()
			tt.want(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	if _, _, err := loadConfig(path, false, nil); err != nil {
		t.Errorf("missing default config file: %v, want the defaults", err)
	}
	_, _, err := loadConfig(path, true, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("missing explicit config file: error %v, want one naming %s", err, path)
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	c := defaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := c.Network.Policy()
	want := netapproval.Config{Mode: netapproval.ModeFull, AllowedDomains: []string{}, DeniedDomains: []string{}, TimeoutDefault: netapproval.AnswerDecline}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Policy (-want +got):\n%s", diff)
	}
}

func TestNetworkPolicy(t *testing.T) {
	n := NetworkConfig{
		Mode: "limited", AllowedDomains: []string{"a.example"}, DeniedDomains: []string{"b.example"},
		AllowLocalBinding: true, ApprovalTimeoutMs: 2500, ApprovalTimeoutDefault: "accept",
	}
	want := netapproval.Config{
		Mode: netapproval.ModeLimited, AllowedDomains: []string{"a.example"}, DeniedDomains: []string{"b.example"},
		AllowLocalBinding: true, ApprovalTimeout: 2500 * time.Millisecond, TimeoutDefault: netapproval.AnswerAllowOnce,
	}
	if diff := cmp.Diff(want, n.Policy()); diff != "" {
		t.Errorf("Policy (-want +got):\n%s", diff)
	}
}

// TestConfigKeysDocumented checks that --help lists exactly the keys of
// Config, in declaration order.
func TestConfigKeysDocumented(t *testing.T) {
	var keys []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			if f.Anonymous { // embedded: its keys are at this level
				walk(prefix, f.Type)
				continue
			}
			key := prefix + f.Tag.Get("toml")
			if f.Type.Kind() == reflect.Struct {
				walk(key+".", f.Type)
				continue
			}
			keys = append(keys, key)
		}
	}
	walk("", reflect.TypeFor[Config]())
	var documented []string
	for _, k := range configKeys {
		documented = append(documented, k.key)
	}
	if diff := cmp.Diff(keys, documented); diff != "" {
		t.Errorf("configKeys (-Config's keys +documented):\n%s", diff)
	}
	if !slices.Contains(keys, "network.approval_timeout_default") {
		t.Errorf("walk found %v", keys)
	}
}

// network/settings/read reports the [network] table as parsed.
func TestNetworkSettings(t *testing.T) {
	n := NetworkConfig{
		Enabled: true, Mode: "limited", AllowedDomains: []string{"a.example"}, DeniedDomains: []string{},
		AllowLocalBinding: true, ApprovalTimeoutMs: 4000, ApprovalTimeoutDefault: "accept",
	}
	want := protocol.NetworkSettingsReadResponse{
		Enabled: true, Mode: protocol.NetworkModeLimited, AllowedDomains: []string{"a.example"}, DeniedDomains: []string{},
		AllowLocalBinding: true, ApprovalTimeoutMs: 4000, ApprovalTimeoutDecision: protocol.NetworkTimeoutAccept,
	}
	if diff := cmp.Diff(want, n.Settings()); diff != "" {
		t.Errorf("Settings (-want +got):\n%s", diff)
	}
	def := defaultConfig().Network.Settings()
	if def.Mode != protocol.NetworkModeFull || def.ApprovalTimeoutDecision != protocol.NetworkTimeoutDecline || !def.Enabled {
		t.Errorf("default settings = %+v", def)
	}
}

// loadTestConfig loads file as a config.toml with the -c overrides; file
// "-" (or "-\n") means no file at all.
func loadTestConfig(t *testing.T, file string, overrides []string) (*Config, []string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if file != "-" && file != "-\n" {
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return loadConfig(path, false, overrides)
}

package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"app-server/model"
	"app-server/protocol"
	"app-server/session"
)

// TestCodexConfig loads the Codex config.toml of the codex_config
// transcript (one file for both tests) and checks what each key became:
// the keys with a meaning here are honoured, the Codex-only ones are
// reported as ignored, in file order.
func TestCodexConfig(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/script/codex_config.txtar")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ar.Files, func(f txtar.File) bool { return f.Name == "home/config.toml" })
	if i < 0 {
		t.Fatal("codex_config.txtar has no home/config.toml")
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, ar.Files[i].Data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, ignored, err := loadConfig(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sandbox != protocol.SandboxWorkspaceWrite || cfg.SandboxMode != "" {
		t.Errorf("sandbox_mode: Sandbox = %q, SandboxMode = %q", cfg.Sandbox, cfg.SandboxMode)
	}
	if cfg.ApprovalPolicy != protocol.ApprovalOnRequest {
		t.Errorf("approval_policy on-failure: got %q", cfg.ApprovalPolicy)
	}
	if cfg.Model != "gpt-5.1-codex" || cfg.ModelReasoningEffort != "high" || cfg.ModelReasoningSummary != "detailed" {
		t.Errorf("model keys = %+v", cfg.Config)
	}
	if w := cfg.SandboxWorkspaceWrite; !slices.Equal(w.WritableRoots, []string{"/home/user/.cache/go-build"}) || w.ExcludeSlashTmp {
		t.Errorf("[sandbox_workspace_write] = %+v", w)
	}
	wantEnv := session.EnvPolicy{Inherit: session.InheritCore, Exclude: []string{"AWS_*", "AZURE_*"}, Set: map[string]string{"CI": "1"}}
	if diff := cmp.Diff(wantEnv, cfg.ShellEnvironmentPolicy.EnvPolicy()); diff != "" {
		t.Errorf("[shell_environment_policy] (-want +got):\n%s", diff)
	}
	if p, err := cfg.Provider("local"); err != nil || p.BaseURL != "http://localhost:11434/v1" {
		t.Errorf("provider local = %+v, %v", p, err)
	}
	wantIgnored := []string{"model_verbosity", "hide_agent_reasoning", "show_raw_agent_reasoning", "notify", "file_opener", "check_for_update_on_startup", "project_doc_max_bytes", "sandbox_workspace_write.network_access", "shell_environment_policy.experimental_use_profile", "history", "tui", "features", "mcp_servers", "model_providers.local.supports_websockets", "profiles", "projects", "otel", "notice"}
	if diff := cmp.Diff(wantIgnored, ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}
}

// Codex's spellings and keys, one at a time, in the file and in -c.
func TestCodexKeys(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		overrides   []string
		want        func(c *Config)
		wantIgnored []string
		wantErr     string
	}{
		{name: "sandbox_mode", file: `sandbox_mode = "read-only"`, want: func(c *Config) { c.Sandbox = protocol.SandboxReadOnly }},
		{name: "sandbox and sandbox_mode agree", file: "sandbox = \"read-only\"\nsandbox_mode = \"read-only\"", want: func(c *Config) { c.Sandbox = protocol.SandboxReadOnly }},
		{name: "sandbox and sandbox_mode disagree", file: "sandbox = \"read-only\"\nsandbox_mode = \"danger-full-access\"", wantErr: `sandbox = "read-only" and sandbox_mode = "danger-full-access" disagree`},
		{name: "bad sandbox_mode", file: `sandbox_mode = "none"`, wantErr: `sandbox_mode = "none": want one of read-only, workspace-write, danger-full-access`},
		{name: "-c sandbox_mode over the file", file: `sandbox = "read-only"`, overrides: []string{"sandbox_mode=danger-full-access"}, want: func(c *Config) { c.Sandbox = protocol.SandboxDangerFullAccess }},
		{name: "-c sandbox over sandbox_mode", file: `sandbox_mode = "read-only"`, overrides: []string{"sandbox=danger-full-access"}, want: func(c *Config) { c.Sandbox = protocol.SandboxDangerFullAccess }},
		{name: "on-failure", file: `approval_policy = "on-failure"`, want: func(c *Config) { c.ApprovalPolicy = protocol.ApprovalOnRequest }},
		{name: "-c on-failure", file: "-", overrides: []string{"approval_policy=on-failure"}, want: func(c *Config) { c.ApprovalPolicy = protocol.ApprovalOnRequest }},
		{name: "granular", file: "approval_policy = { granular = { rules = true } }", wantErr: "config.toml:1: approval_policy: want untrusted, on-request or never (Codex's granular"},
		{name: "openai_base_url", file: `openai_base_url = "https://gateway.example/v1"`, want: func(c *Config) { c.OpenAIBaseURL = "https://gateway.example/v1" }},
		{name: "bad openai_base_url", file: `openai_base_url = "gateway"`, wantErr: `openai_base_url = "gateway": want an http:// or https:// URL`},
		{
			name: "Codex-only keys, tables and provider keys", file: "notify = [\"x\"]\n[tui]\nanimations = false\n[model_providers.m]\nbase_url = \"http://h/v1\"\nsupports_websockets = true\n[sandbox_workspace_write]\nnetwork_access = true\nwritable_roots = [\"/srv\"]\n",
			want: func(c *Config) {
				c.ModelProviders = map[string]model.ProviderConfig{"m": {BaseURL: "http://h/v1"}}
				c.SandboxWorkspaceWrite.WritableRoots = []string{"/srv"}
			},
			wantIgnored: []string{"notify", "tui", "model_providers.m.supports_websockets", "sandbox_workspace_write.network_access"},
		},
		{name: "-c Codex-only key", file: "tui.animations = true", overrides: []string{"tui.animations=false", "history.persistence=none"}, want: func(*Config) {}, wantIgnored: []string{"tui", "history"}},
		{name: "unknown key under a shared table", file: "[model_providers.m]\nbase_url = \"http://h/v1\"\nsupports_websocket = true\n", wantErr: `config.toml:3: unknown key "model_providers.m.supports_websocket"`},
		{name: "unknown key next to Codex's", file: "notify = [\"x\"]\nnotifyy = 1\n", wantErr: `config.toml:2: unknown key "notifyy" (did you mean notify?)`},
		{name: "a Codex table misspelt", file: "[mcp_server.docs]\ncommand = \"x\"\n", wantErr: `config.toml:1: unknown key "mcp_server.docs" (did you mean mcp_servers?)`},
		{name: "profile", file: `profile = "work"`, wantErr: "config.toml:1: profile: Codex 0.169.0 no longer reads the legacy profile selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ignored, err := loadTestConfig(t, tt.file+"\n", tt.overrides)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
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
			if diff := cmp.Diff(tt.wantIgnored, ignored); diff != "" {
				t.Errorf("ignored (-want +got):\n%s", diff)
			}
		})
	}
}

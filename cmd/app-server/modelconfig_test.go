package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Codex config.toml's model keys load as Codex writes them.
func TestCodexModelKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	doc := `model = "gpt-5.1-codex"
model_provider = "local"
model_reasoning_effort = "high"
model_reasoning_summary = "concise"

[model_providers.local]
name = "Local vLLM"
base_url = "http://127.0.0.1:8000/v1"
env_key = "LOCAL_API_KEY"
wire_api = "responses"
http_headers = { "X-Team" = "ide" }
env_http_headers = { "X-Org" = "ORG_ENV" }
query_params = { "api-version" = "2025-04-01" }
request_max_retries = 4
stream_max_retries = 5
stream_idle_timeout_ms = 300000
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := loadConfig(path, true, []string{"model_providers.local.stream_max_retries=1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model != "gpt-5.1-codex" || cfg.ModelReasoningEffort != "high" || cfg.ModelReasoningSummary != "concise" {
		t.Errorf("model keys = %+v", cfg.Config)
	}
	p, err := cfg.Provider("")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "local" || p.BaseURL != "http://127.0.0.1:8000/v1" || p.EnvKey != "LOCAL_API_KEY" ||
		p.HTTPHeaders["X-Team"] != "ide" || p.EnvHTTPHeaders["X-Org"] != "ORG_ENV" || p.QueryParams["api-version"] != "2025-04-01" ||
		*p.StreamIdleTimeoutMs != 300000 {
		t.Errorf("provider = %+v", p)
	}
	if *p.StreamMaxRetries != 1 {
		t.Errorf("-c override: stream_max_retries = %d", *p.StreamMaxRetries)
	}
}

func TestModelKeyErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"model_provider = \"nope\"\n", `unknown model provider "nope"`},
		{"[model_providers.x]\nbase_url = \"http://h\"\nwire_api = \"chat\"\n", `model_providers.x.wire_api = "chat"`},
		{"[model_providers.x]\nbase_url = \"http://h\"\nbogus = 1\n", `unknown key "model_providers.x.bogus"`},
	} {
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := loadConfig(path, true, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.doc, err, tc.want)
		}
	}
}

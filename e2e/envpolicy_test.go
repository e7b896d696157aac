package e2e

import (
	"os"
	"slices"
	"strings"
	"testing"

	"app-server/model/responsestest"
	"app-server/protocol"
)

// [shell_environment_policy] decides which of the server's variables the
// commands it runs see: a turn's command (sandboxed, with the proxy
// variables the server adds after the policy) and command/exec (whose env
// param comes after the policy). Codex 0.169.0's default passes everything,
// credentials included; ignore_default_excludes = false drops names
// containing KEY, SECRET or TOKEN.
func TestShellEnvironmentPolicy(t *testing.T) {
	secrets := []string{"MY_API_KEY=k1", "OPENAI_API_KEY=k2", "E2E_Db_Secret=s", "E2E_GH_token=t"}
	secretNames := []string{"MY_API_KEY", "OPENAI_API_KEY", "E2E_Db_Secret", "E2E_GH_token"}
	serverEnv := append(slices.Clone(secrets), "E2E_PLAIN=p")
	home, path := "HOME="+os.Getenv("HOME"), "PATH="+os.Getenv("PATH")
	if home == "HOME=" || path == "PATH=" {
		t.Fatal("the test needs HOME and PATH in its environment")
	}
	tests := []struct {
		name, config string
		want         []string // entries
		notWant      []string // a NAME=value entry, or a NAME in any entry
	}{
		{
			name: "default: everything, as Codex 0.169.0",
			want: append([]string{"E2E_PLAIN=p", home, path}, secrets...),
		},
		{
			name:    "ignore_default_excludes = false",
			config:  "[shell_environment_policy]\nignore_default_excludes = false\n",
			want:    []string{"E2E_PLAIN=p", home, path},
			notWant: secretNames,
		},
		{
			name:    "set adds one after the excludes",
			config:  "[shell_environment_policy]\nignore_default_excludes = false\nset = { E2E_SET_KEY = \"v\", E2E_PLAIN = \"replaced\" }\n",
			want:    []string{"E2E_SET_KEY=v", "E2E_PLAIN=replaced", home, path},
			notWant: append([]string{"E2E_PLAIN=p"}, secretNames...),
		},
		{
			name:    "ignore_default_excludes = true passes them",
			config:  "[shell_environment_policy]\nignore_default_excludes = true\nexclude = [\"e2e_*\"]\n",
			want:    []string{"MY_API_KEY=k1", "OPENAI_API_KEY=k2", home, path},
			notWant: []string{"E2E_PLAIN", "E2E_Db_Secret", "E2E_GH_token"},
		},
		{
			name:    "core",
			config:  "[shell_environment_policy]\ninherit = \"core\"\n",
			want:    []string{home, path},
			notWant: append([]string{"E2E_PLAIN"}, secretNames...),
		},
		{
			name:    "include_only",
			config:  "[shell_environment_policy]\ninclude_only = [\"path\", \"*_api_*\"]\n",
			want:    []string{path, "MY_API_KEY=k1", "OPENAI_API_KEY=k2"},
			notWant: []string{"HOME", "E2E_PLAIN", "E2E_Db_Secret"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, options{config: tt.config, env: serverEnv})
			s.initialize()
			th := s.startThread(t.TempDir(), protocol.ApprovalNever)
			s.startTurn(th, "env")
			c := oneCommand(t, s.runFlow(nil))
			if c.Status != protocol.CommandCompleted || c.AggregatedOutput == nil {
				t.Fatalf("env: %+v", c)
			}
			turnEnv := strings.Split(*c.AggregatedOutput, "\n")
			// The proxy variables come after the policy: include_only
			// does not drop them.
			if !slices.ContainsFunc(turnEnv, func(kv string) bool { return strings.HasPrefix(kv, "HTTP_PROXY=http://") }) {
				t.Errorf("turn command: no HTTP_PROXY in\n%s", *c.AggregatedOutput)
			}
			var r protocol.CommandExecResponse
			s.ok("command/exec", map[string]any{"command": []string{"env"}}, &r)
			execEnv := strings.Split(r.Stdout, "\n")
			for what, env := range map[string][]string{"turn command": turnEnv, "command/exec": execEnv} {
				for _, kv := range tt.want {
					if !slices.Contains(env, kv) {
						t.Errorf("%s: no %s in\n%s", what, kv, strings.Join(env, "\n"))
					}
				}
				for _, no := range tt.notWant {
					if slices.ContainsFunc(env, func(e string) bool { return e == no || strings.HasPrefix(e, no+"=") }) {
						t.Errorf("%s: %s is there:\n%s", what, no, strings.Join(env, "\n"))
					}
				}
			}
		})
	}
}

// command/exec's env param comes after the policy, as in Codex: it sets
// what the policy drops and removes what it keeps. With nothing inherited
// and no network the command's environment is empty, not the server's.
func TestShellEnvironmentPolicyCommandExecEnv(t *testing.T) {
	s := startServer(t, options{
		config: "[network]\nenabled = false\n[shell_environment_policy]\ninherit = \"none\"\n",
		env:    []string{"MY_API_KEY=k1", "E2E_PLAIN=p"},
	})
	s.initialize()
	var r protocol.CommandExecResponse
	s.ok("command/exec", map[string]any{"command": []string{"env"}, "env": map[string]any{"MY_API_KEY": "from-client", "E2E_X": "x"}}, &r)
	if got := strings.Fields(r.Stdout); !slices.Equal(got, []string{"E2E_X=x", "MY_API_KEY=from-client"}) && !slices.Equal(got, []string{"MY_API_KEY=from-client", "E2E_X=x"}) {
		t.Errorf("command/exec with env: %q", r.Stdout)
	}
	for _, sandbox := range []map[string]any{
		{"type": "workspaceWrite", "writableRoots": []string{}, "networkAccess": false, "excludeSlashTmp": false, "excludeTmpdirEnvVar": false},
		{"type": "dangerFullAccess"},
	} {
		s.ok("command/exec", map[string]any{"command": []string{"env"}, "sandboxPolicy": sandbox}, &r)
		if r.ExitCode != 0 || r.Stdout != "" {
			t.Errorf("%s: inherit none, no network: exit %d, environment %q, want none", sandbox["type"], r.ExitCode, r.Stdout)
		}
	}
}

// A model's tool call runs under the policy too: with the default excludes
// on, the command does not see the provider's key (env_key), which the
// server itself still sends.
func TestShellEnvironmentPolicyModelCommand(t *testing.T) {
	mock := newMock(t)
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ExecCommand("call_env", "env")),
		responsestest.Response("r2", responsestest.Message("m", "done")),
	)
	config := strings.Replace(modelConfig(mock, "env_key = \"E2E_MOCK_API_KEY\"\n"), "[network]", "[shell_environment_policy]\nignore_default_excludes = false\n\n[network]", 1)
	s := startModelServer(t, mock, options{config: config, env: []string{"E2E_MOCK_API_KEY=provider-secret", "E2E_PLAIN=p"}})
	th := s.startThread(t.TempDir(), protocol.ApprovalNever)
	s.startModelTurn(th, "show the environment")
	f := s.runModelFlow(answers{})
	if want := []string{"userMessage", "commandExecution:completed", "agentMessage:done"}; !slices.Equal(f.kinds(), want) {
		t.Fatalf("items %v, want %v", f.kinds(), want)
	}
	reqs := mock.Requests()
	out := callOutput(t, reqs[1], "call_env")
	if strings.Contains(out, "E2E_MOCK_API_KEY") || !strings.Contains(out, "E2E_PLAIN=p") {
		t.Errorf("the model's command saw:\n%s", out)
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer provider-secret" {
		t.Errorf("the server sent Authorization %q, want the key", got)
	}
}

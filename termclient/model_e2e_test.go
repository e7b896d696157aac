package termclient

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"app-server/model/responsestest"
)

// A model-driven turn in the client: the model's message streams to
// stdout, and its patch is shown as a diff with a prompt before it is
// applied.
func TestModelTurnShowsMessageAndPatchPrompt(t *testing.T) {
	mock := responsestest.New()
	defer mock.Close()
	mock.Enqueue(
		responsestest.Response("r1", responsestest.ApplyPatch("call_1", "*** Begin Patch\n*** Add File: greeting.txt\n+hello there\n*** End Patch")),
		responsestest.Response("r2", responsestest.Message("m", "I added ", "greeting.txt.")),
	)
	home := t.TempDir()
	config := fmt.Sprintf("model = \"mock-model\"\nmodel_provider = \"mock\"\n[network]\nenabled = false\n[model_providers.mock]\nbase_url = %q\n", mock.BaseURL())
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startClient(t, home, "--approval-policy", "untrusted")
	p.send("add a greeting file")
	p.waitFor(p.stdout, "?? apply these changes (A greeting.txt)?", 1)
	out := p.stdout.String()
	for _, want := range []string{"new file " + filepath.Join(p.cmd.Dir, "greeting.txt"), "+hello there", "[a] once", "[d] decline"} {
		if !strings.Contains(out, want) {
			t.Errorf("prompt output lacks %q:\n%s", want, out)
		}
	}
	p.send("a")
	p.waitFor(p.stdout, "-- turn completed", 1)
	out = p.stdout.String()
	for _, want := range []string{"patched: A greeting.txt", "I added greeting.txt.\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(p.cmd.Dir, "greeting.txt")); err != nil || string(b) != "hello there\n" {
		t.Errorf("greeting.txt = %q, %v", b, err)
	}
}

package appserver

import (
	"os/exec"
	"strings"
	"testing"
)

// notInServer are packages the app-server binary must not link, with why.
// Go initializes every linked package when the process starts, used or
// not, and a large package's code, types and itabs are paged in by that
// initialization: these cost resident memory and start time in every
// server process (docs/BENCHMARKS.md, "What the server's startup costs").
var notInServer = map[string]string{
	"github.com/openai/openai-go/v3/responses": "2.3 MiB of RSS at startup: model builds its request with net/http and reads the events itself",
	"github.com/openai/openai-go/v3/option":    "pulls in the SDK's shared and param packages and their initialization",
	"app-server/schema":                        "the generator's dependencies (invopop/jsonschema, a YAML library, go/parser): the binary writes the embedded files with WriteDir",
}

func TestServerBinaryLinksNoHeavyPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./cmd/app-server").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if why, ok := notInServer[p]; ok {
			t.Errorf("cmd/app-server links %s: %s", p, why)
		}
	}
}

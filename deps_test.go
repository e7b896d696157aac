package appserver

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowedImports is the import rule of DESIGN.md ("Layout"): for each
// package, the non-standard packages it may import directly. Lower packages
// reach upper ones only through interfaces they define, so an import in the
// wrong direction is a design error this test names. netapproval also uses
// uuid (prompt ids) and go-toml (rules.toml); termclient talks to the server
// over the wire only (through jsonrpc2, which tracks its calls), so it sees
// protocol and nothing else of ours.
var allowedImports = map[string][]string{
	"app-server":                                {},
	"app-server/protocol":                       {},
	"app-server/schema":                         {"app-server/protocol", "github.com/invopop/jsonschema"},
	"app-server/netapproval":                    {"golang.org/x/net", "golang.org/x/sync", "github.com/google/uuid", "github.com/pelletier/go-toml/v2"},
	"app-server/session":                        {"app-server/protocol", "app-server/netapproval", "app-server/sandbox", "app-server/session/rollout", "app-server/session/shellcmd", "app-server/model", "app-server/patch", "github.com/google/uuid"},
	"app-server/session/rollout":                {"app-server/protocol", "github.com/google/uuid"},
	"app-server/session/shellcmd":               {"app-server/protocol", "mvdan.cc/sh/v3"},
	"app-server/model":                          {"github.com/openai/openai-go/v3"},
	"app-server/model/responsestest":            {},
	"app-server/patch":                          {},
	"app-server/sandbox":                        {"golang.org/x/sys", "golang.org/x/net/bpf", "github.com/landlock-lsm/go-landlock", "app-server/sandbox/internal/seccompfilter"},
	"app-server/sandbox/internal/seccompfilter": {"github.com/elastic/go-seccomp-bpf", "golang.org/x/net/bpf"},
	"app-server/rpc":                            {"app-server/protocol", "app-server/session", "github.com/coder/websocket", "github.com/sourcegraph/jsonrpc2"},
	"app-server/termclient":                     {"app-server/protocol", "github.com/sourcegraph/jsonrpc2", "golang.org/x/term"},
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := map[string]bool{}
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
			Standard   bool
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p.ImportPath, "app-server/cmd/") || strings.HasPrefix(p.ImportPath, "app-server/e2e") {
			continue // commands and end-to-end tests may import anything
		}
		allowed, ok := allowedImports[p.ImportPath]
		if !ok {
			t.Errorf("package %s has no import rule: add it to allowedImports (and DESIGN.md)", p.ImportPath)
			continue
		}
		seen[p.ImportPath] = true
		for _, imp := range p.Imports {
			first, _, _ := strings.Cut(imp, "/")
			std := !strings.Contains(first, ".") && first != "app-server"
			if std {
				continue
			}
			if !slices.ContainsFunc(allowed, func(a string) bool { return imp == a || strings.HasPrefix(imp, a+"/") }) {
				t.Errorf("%s imports %s, which the layout does not allow", p.ImportPath, imp)
			}
		}
	}
	for pkg := range allowedImports {
		if !seen[pkg] {
			t.Errorf("allowedImports names %s, which no longer exists", pkg)
		}
	}
}

package schema

import (
	"reflect"
	"strings"
	"testing"

	"app-server/protocol"
)

// A rename entry that no reflected type uses is an error, so the table
// cannot silently outlive a renamed or removed protocol type.
func TestUnusedRenameIsAnError(t *testing.T) {
	_, err := buildPool([]reflect.Type{reflect.TypeFor[protocol.ThreadArchiveParams]()}, nil)
	if err == nil {
		t.Fatal("no error for unused rename entries")
	}
	for _, name := range []string{"Error", "RequestID"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name the unused entry %s", err, name)
		}
	}
}

func TestFlowJoinsParagraphLines(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"One line.\n", "One line."},
		{"First line\nsecond line.\n\nNext paragraph.\n", "First line second line.\n\nNext paragraph."},
		{"Forms:\n\n\t\"a\" | \"b\"\n\t{\"c\":1}\n", "Forms:\n\n    \"a\" | \"b\"\n    {\"c\":1}"},
	} {
		if got := flow(tc.in); got != tc.want {
			t.Errorf("flow(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every pointer field of every struct in the pool is nullable in its schema
// and every field the rules require is listed as required.
func TestFieldRulesInPool(t *testing.T) {
	p, err := buildPool(protocolRoots(), nil)
	if err != nil {
		t.Fatal(err)
	}
	thread := p.defs["Thread"]
	req, _ := thread["required"].([]any)
	has := func(name string) bool {
		for _, r := range req {
			if r == name {
				return true
			}
		}
		return false
	}
	if !has("projectId") {
		t.Error(`Thread.projectId (jsonschema:"required") is not required`)
	}
	if has("forkedFromId") {
		t.Error("Thread.forkedFromId (a pointer) is required")
	}
	props := thread["properties"].(map[string]any)
	if typ := props["projectId"].(map[string]any)["type"]; !reflect.DeepEqual(typ, []any{"string", "null"}) {
		t.Errorf("Thread.projectId type = %v, want [string null]", typ)
	}
	if got := props["gitInfo"].(map[string]any)["anyOf"]; got == nil {
		t.Errorf("Thread.gitInfo (a pointer to a struct) is not anyOf [ref, null]: %v", props["gitInfo"])
	}
	// Embedded ThreadSettings is inlined into ThreadStartResponse.
	resp := p.defs["ThreadStartResponse"]["properties"].(map[string]any)
	for _, name := range []string{"thread", "model", "sandbox", "approvalsReviewer"} {
		if _, ok := resp[name]; !ok {
			t.Errorf("ThreadStartResponse lacks %s", name)
		}
	}
	if _, ok := p.defs["ThreadSettings"]; ok {
		t.Error("embedded ThreadSettings has a definition of its own")
	}
	// An omitempty slice is a nullable array and not required.
	approval := p.defs["CommandExecutionRequestApprovalParams"]
	ca := approval["properties"].(map[string]any)["commandActions"].(map[string]any)
	if !reflect.DeepEqual(ca["type"], []any{"array", "null"}) {
		t.Errorf("commandActions type = %v, want [array null]", ca["type"])
	}
	// Plain structs do not forbid additional properties.
	for name, def := range p.defs {
		if _, ok := def["properties"]; ok && def["additionalProperties"] == false {
			t.Errorf("%s forbids additional properties", name)
		}
	}
}

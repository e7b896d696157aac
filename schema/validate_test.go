package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"app-server/protocol"
)

// schemaBase is where the generated files are registered with the validator.
const schemaBase = "mem:///schema/json/"

var compiled = sync.OnceValues(func() (*compiledSchemas, error) {
	files, err := Generate()
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	for name, b := range files {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := c.AddResource(schemaBase+name, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return &compiledSchemas{c: c, files: files, cache: map[string]*jsonschema.Schema{}}, nil
})

type compiledSchemas struct {
	mu    sync.Mutex
	c     *jsonschema.Compiler
	files map[string][]byte
	cache map[string]*jsonschema.Schema
}

// schemaFor compiles loc, a file name with an optional fragment
// ("app_server_protocol.schemas.json#/definitions/ThreadItem").
func schemaFor(t *testing.T, loc string) *jsonschema.Schema {
	t.Helper()
	cs, err := compiled()
	if err != nil {
		t.Fatal(err)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if s, ok := cs.cache[loc]; ok {
		return s
	}
	s, err := cs.c.Compile(schemaBase + loc)
	if err != nil {
		t.Fatalf("compile %s: %v", loc, err)
	}
	cs.cache[loc] = s
	return s
}

func validate(t *testing.T, loc string, msg []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("sample is not JSON: %v\n%s", err, msg)
	}
	return schemaFor(t, loc).Validate(inst)
}

func TestEveryFileCompilesAsDraft07(t *testing.T) {
	cs, err := compiled()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(cs.files)) {
		var doc struct {
			Schema string         `json:"$schema"`
			Title  string         `json:"title"`
			Defs   map[string]any `json:"$defs"`
		}
		if err := json.Unmarshal(cs.files[name], &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc.Schema != SchemaVersion {
			t.Errorf("%s: $schema = %q, want %q", name, doc.Schema, SchemaVersion)
		}
		if doc.Title == "" {
			t.Errorf("%s: no title", name)
		}
		if doc.Defs != nil || bytes.Contains(cs.files[name], []byte("#/$defs/")) {
			t.Errorf("%s: uses $defs; draft-07 files use definitions", name)
		}
		schemaFor(t, name)
	}
}

// Messages as the reference server and its clients send them (from the
// Codex 0.169.0 transcripts), plus some of ours. Unknown members are
// allowed, so the reference server's extra fields validate too.
var sampleMessages = []struct {
	name  string
	file  string
	msg   string
	valid bool
}{
	{"initialize", "ClientRequest.json",
		`{"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "transcript_driver", "title": "Transcript driver", "version": "0.0.1"}, "capabilities": null}}`, true},
	{"thread/start", "ClientRequest.json",
		`{"id": 2, "method": "thread/start", "params": {"cwd": "/w", "approvalPolicy": "on-request"}}`, true},
	{"turn/start", "ClientRequest.json",
		`{"id": "t-3", "method": "turn/start", "params": {"threadId": "01a2", "input": [{"type": "text", "text": "ls", "text_elements": []}]}}`, true},
	{"network/grants/revoke", "ClientRequest.json",
		`{"id": 4, "method": "network/grants/revoke", "params": {"threadId": "01a2", "host": "example.com", "scope": "session"}}`, true},
	{"fractional id", "ClientRequest.json",
		`{"id": 1.5, "method": "thread/read", "params": {"threadId": "01a2"}}`, false},
	{"unknown method", "ClientRequest.json",
		`{"id": 1, "method": "thread/fork", "params": {"threadId": "01a2"}}`, false},
	{"turn/start without input", "ClientRequest.json",
		`{"id": 1, "method": "turn/start", "params": {"threadId": "01a2"}}`, false},
	{"thread/started", "ServerNotification.json",
		`{"method": "thread/started", "params": {"thread": {"id": "01a2", "sessionId": "01a2", "forkedFromId": null, "parentThreadId": null, "preview": "", "ephemeral": false, "section": null, "sectionEnteredAt": null, "projectId": null, "historyMode": "paginated", "modelProvider": "mock_provider", "model": "mock-model", "reasoningEffort": null, "createdAt": 1795326977, "updatedAt": 1795326977, "recencyAt": 1795326977, "status": {"type": "idle"}, "path": "/h/t.jsonl", "cwd": "/w", "cliVersion": "0.169.0", "originator": "transcript_driver", "source": "vscode", "threadSource": null, "agentNickname": null, "agentRole": null, "gitInfo": null, "name": null, "turns": []}}, "emittedAtMs": 1795326977659}`, true},
	{"thread/status/changed", "ServerNotification.json",
		`{"method": "thread/status/changed", "params": {"threadId": "01a2", "status": {"type": "active", "activeFlags": ["waitingOnApproval"]}}, "emittedAtMs": 1795326977686}`, true},
	{"item/started", "ServerNotification.json",
		`{"method": "item/started", "params": {"item": {"type": "userMessage", "id": "01a3", "clientId": null, "content": [{"type": "text", "text": "RUN: curl -sS http://127.0.0.1:18772/", "text_elements": []}], "startedAtMs": 1795326977706, "completedAtMs": null}, "threadId": "01a2", "turnId": "01a4", "startedAtMs": 1795326977706}, "emittedAtMs": 1795326977706}`, true},
	{"item/completed commandExecution", "ServerNotification.json",
		`{"method": "item/completed", "params": {"item": {"type": "commandExecution", "id": "call-24", "command": "ls", "cwd": "/w", "processId": null, "source": "agent", "status": "completed", "commandActions": [{"type": "listFiles", "command": "ls", "path": null}], "aggregatedOutput": "a\n", "exitCode": 0, "durationMs": 12, "startedAtMs": 1, "completedAtMs": 2}, "threadId": "01a2", "turnId": "01a4", "contentTokenCount": null, "completedAtMs": 2}}`, true},
	{"serverRequest/resolved", "ServerNotification.json",
		`{"method": "serverRequest/resolved", "params": {"threadId": "01a2", "requestId": 0}, "emittedAtMs": 1795326978094}`, true},
	{"turn/completed", "ServerNotification.json",
		`{"method": "turn/completed", "params": {"threadId": "01a2", "turn": {"id": "01a4", "rootTurnId": "01a4", "items": [{"type": "agentMessage", "id": "msg-25", "text": "done", "startedAtMs": 1, "completedAtMs": 2}], "itemsView": "summary", "status": "completed", "error": null, "startedAt": 1795326977, "completedAt": 1795326978, "durationMs": 568}}, "emittedAtMs": 1795326978241}`, true},
	{"network/grants/updated", "ServerNotification.json",
		`{"method": "network/grants/updated", "params": {"threadId": "01a2", "grants": [{"host": "example.com", "protocol": "https", "port": 443, "action": "allow", "scope": "session", "grantedAtMs": 1, "hits": 2, "openConnections": 0}]}}`, true},
	{"unknown item type", "ServerNotification.json",
		`{"method": "item/started", "params": {"item": {"type": "reasoning", "id": "r"}, "threadId": "01a2", "turnId": "01a4", "startedAtMs": 1}}`, false},
	{"turn status out of enum", "ServerNotification.json",
		`{"method": "turn/started", "params": {"threadId": "01a2", "turn": {"id": "01a4", "rootTurnId": null, "items": [], "itemsView": "full", "status": "running", "error": null, "startedAt": 1, "completedAt": null, "durationMs": null}}}`, false},
	{"network approval", "CommandExecutionRequestApprovalParams.json",
		`{"kind": "command", "threadId": "01a2", "turnId": "01a4", "itemId": "network#local#http#127.0.0.1#18772#b1a1", "startedAtMs": 1795326977889, "environmentId": "local", "reason": "Network access to 127.0.0.1 requires approval", "networkApprovalContext": {"host": "127.0.0.1", "protocol": "http"}, "proposedNetworkPolicyAmendments": [{"host": "127.0.0.1", "action": "allow"}, {"host": "127.0.0.1", "action": "deny"}], "availableDecisions": ["accept", "acceptForSession", {"applyNetworkPolicyAmendment": {"network_policy_amendment": {"host": "127.0.0.1", "action": "allow"}}}, "cancel"]}`, true},
	{"command approval", "CommandExecutionRequestApprovalParams.json",
		`{"threadId": "01a2", "turnId": "01a4", "itemId": "call-7", "startedAtMs": 1, "command": "git fetch", "cwd": "/w", "commandActions": [{"type": "unknown", "command": "git fetch"}], "proposedExecpolicyAmendment": ["git", "fetch"], "availableDecisions": ["accept", {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["git", "fetch"]}}, "decline", "cancel"], "expiresAtMs": 5}`, true},
	{"approval without threadId", "CommandExecutionRequestApprovalParams.json",
		`{"turnId": "01a4", "itemId": "call-7", "startedAtMs": 1}`, false},
	{"unknown decision", "CommandExecutionRequestApprovalParams.json",
		`{"threadId": "01a2", "turnId": "01a4", "itemId": "call-7", "startedAtMs": 1, "availableDecisions": ["approve"]}`, false},
	{"decision with two keys", "CommandExecutionRequestApprovalResponse.json",
		`{"decision": {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": []}, "extra": 1}}`, false},
	{"port out of range", "CommandExecutionRequestApprovalParams.json",
		`{"threadId": "01a2", "turnId": "01a4", "itemId": "n", "startedAtMs": 1, "networkApprovalContext": {"host": "a", "protocol": "https", "port": -1}}`, false},
	{"response", "JSONRPCMessage.json", `{"id": 1, "result": {"userAgent": "x"}}`, true},
	{"error", "JSONRPCMessage.json", `{"id": "a", "error": {"code": -32600, "message": "Not initialized"}}`, true},
	{"notification", "JSONRPCMessage.json", `{"method": "initialized"}`, true},
	{"initialized", "ClientNotification.json", `{"method": "initialized"}`, true},
	{"error without message", "JSONRPCError.json", `{"id": 1, "error": {"code": -32600}}`, false},
}

func TestSampleMessages(t *testing.T) {
	for _, tc := range sampleMessages {
		t.Run(tc.file+"/"+tc.name, func(t *testing.T) {
			err := validate(t, tc.file, []byte(tc.msg))
			if tc.valid && err != nil {
				t.Errorf("valid message rejected: %v", err)
			}
			if !tc.valid && err == nil {
				t.Errorf("invalid message accepted")
			}
		})
	}
}

// bundleDef is the location of a definition in the bundle.
func bundleDef(name string) string { return BundleFile + "#/definitions/" + name }

// TestEnumsAndUnionsRoundTrip encodes every value of every Enum and every
// variant of every Union in the pool with the type's own JSON methods and
// validates the result against the type's generated definition.
func TestEnumsAndUnionsRoundTrip(t *testing.T) {
	p, err := buildPool(protocolRoots(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var enums, unions int
	for _, name := range slices.Sorted(maps.Keys(p.defs)) {
		typ := p.types[name]
		switch {
		case implementsEnum(typ):
			enums++
			for _, v := range enumValuesOf(typ) {
				wire, _ := json.Marshal(v)
				checkRoundTrip(t, typ, bundleDef(name), wire)
			}
			if err := validate(t, bundleDef(name), []byte(`"no such value"`)); err == nil {
				t.Errorf("%s accepts a value outside its enum", name)
			}
		case implementsUnion(typ):
			unions++
			variants := variantsOf(typ)
			if len(variants) == 0 {
				t.Errorf("%s has no variants", name)
			}
			for _, v := range variants {
				for _, full := range []bool{true, false} {
					wire, err := json.Marshal(variantWire(typ, v, full))
					if err != nil {
						t.Fatal(err)
					}
					got := checkRoundTrip(t, typ, bundleDef(name), wire)
					if got != nil && !bytes.Contains(got, []byte(`"`+v.Tag+`"`)) {
						t.Errorf("%s variant %s encodes without its tag: %s", name, v.Tag, got)
					}
				}
			}
		}
	}
	if enums == 0 || unions == 0 {
		t.Errorf("found %d enums and %d unions in the pool; want some of each", enums, unions)
	}
}

// TestRootTypesMatchTheirFiles decodes a sample of every root type (once with
// every member set, once with the fewest), re-encodes it with encoding/json
// and validates the bytes against the type's own file, so that what the Go
// types write is what the schema says.
func TestRootTypesMatchTheirFiles(t *testing.T) {
	for _, typ := range protocolRoots() {
		for _, full := range []bool{true, false} {
			wire, err := json.Marshal(sampleJSON(typ, full))
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, typ, defName(typ)+".json", wire)
		}
	}
}

// checkRoundTrip decodes wire into a new typ, encodes it again and
// validates the result against loc. It returns the re-encoded bytes.
func checkRoundTrip(t *testing.T, typ reflect.Type, loc string, wire []byte) []byte {
	t.Helper()
	v := reflect.New(typ)
	if err := json.Unmarshal(wire, v.Interface()); err != nil {
		t.Errorf("%s: decoding %s: %v", typ.Name(), wire, err)
		return nil
	}
	got, err := json.Marshal(v.Interface())
	if err != nil {
		t.Errorf("%s: encoding: %v", typ.Name(), err)
		return nil
	}
	if err := validate(t, loc, got); err != nil {
		t.Errorf("%s: %s does not validate against %s: %v", typ.Name(), got, loc, err)
	}
	return got
}

// variantWire is the wire form of variant v of union type u, with a payload
// from sampleJSON.
func variantWire(u reflect.Type, v protocol.Variant, full bool) any {
	var payload map[string]any
	if v.Payload != nil {
		payload = sampleJSON(reflect.TypeOf(v.Payload), full).(map[string]any)
	}
	if unionKindOf(u) == protocol.ExternallyTaggedUnion {
		if v.Payload == nil {
			return v.Tag
		}
		return map[string]any{v.Tag: payload}
	}
	if payload == nil {
		payload = map[string]any{}
	}
	payload["type"] = v.Tag
	return payload
}

// sampleJSON builds a JSON value that a field of Go type t accepts: with
// full, every member is present and every pointer set; otherwise optional
// members are left out and nullable ones are null.
func sampleJSON(t reflect.Type, full bool) any {
	switch {
	case t == requestIDType:
		return 7
	case t == rawMessageType:
		return map[string]any{"any": []any{1, "two"}}
	case t.Kind() == reflect.Pointer:
		if !full {
			return nil
		}
		return sampleJSON(t.Elem(), full)
	case implementsUnion(t):
		vs := variantsOf(t)
		return variantWire(t, vs[len(vs)-1], full)
	case implementsEnum(t):
		vs := enumValuesOf(t)
		return vs[len(vs)-1]
	}
	switch t.Kind() {
	case reflect.Struct:
		m := map[string]any{}
		for _, f := range fieldsOf(t) {
			if !full && f.optional {
				continue
			}
			m[f.name] = sampleJSON(f.typ, full)
		}
		return m
	case reflect.Slice:
		if !full {
			return []any{}
		}
		return []any{sampleJSON(t.Elem(), full)}
	case reflect.Map:
		return map[string]any{"key": sampleJSON(t.Elem(), full)}
	case reflect.String:
		return "text"
	case reflect.Bool:
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return 42
	}
	panic("sampleJSON: unsupported " + t.String())
}

// Two different Go types with one name must not share a definition.
type Thread struct {
	Other string `json:"other"`
}

func TestNameCollisionPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic for two types named Thread")
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, "Thread") || !strings.Contains(msg, "app-server/schema.Thread") {
			t.Errorf("panic does not name both types: %v", msg)
		}
	}()
	roots := append(protocolRoots(), reflect.TypeFor[Thread]())
	_, _ = buildPool(roots, nil)
}

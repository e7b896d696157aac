package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"app-server/protocol"
)

// Validation of every message against the published Codex schema
// (CODEX_SCHEMA_DIR: the output of `codex app-server generate-json-schema`
// of Codex CLI 0.169.0, which `make compat` installs and generates). Without
// the variable only our own schema is checked (harness_test.go).
//
// Each message is validated against the definition of its method:
//   - a server notification's params: ServerNotification.json, the member
//     whose method enum names it, its params $ref;
//   - a server request's params: the same through ServerRequest.json;
//   - a response's result: the <Params minus "Params">Response definition of
//     the request's method in ClientRequest.json (v2/, then the top level,
//     then v1/: initialize's is v1/InitializeResponse.json); an error
//     response: JSONRPCError.json;
//   - a request we send: its params, through ClientRequest.json.
//
// Our extension methods (protocol.Method.Extension) have no Codex
// definition and are checked against our schema only.

// codexValidated counts the messages validated against the Codex schema in
// this process, by kind; reportCodexValidation prints them.
var codexValidated struct {
	notifications, serverRequests, results, errors, clientRequests atomic.Int64
	extension                                                      atomic.Int64 // ours only
}

type codexSchemas struct {
	dir           string
	notifications map[string]*jsonschema.Schema // by method: params
	requests      map[string]*jsonschema.Schema // server requests by method: params
	clientParams  map[string]*jsonschema.Schema // client requests by method: params
	results       map[string]*jsonschema.Schema // client requests by method: result
	jsonrpcError  *jsonschema.Schema
}

var codexOnce = sync.OnceValues(loadCodexSchemas)

// codex returns the compiled Codex schema, nil when CODEX_SCHEMA_DIR is
// not set.
func codex() (*codexSchemas, error) { return codexOnce() }

func loadCodexSchemas() (*codexSchemas, error) {
	dir := os.Getenv("CODEX_SCHEMA_DIR")
	if dir == "" {
		return nil, nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cs := &codexSchemas{
		dir: dir, notifications: map[string]*jsonschema.Schema{}, requests: map[string]*jsonschema.Schema{},
		clientParams: map[string]*jsonschema.Schema{}, results: map[string]*jsonschema.Schema{},
	}
	c := jsonschema.NewCompiler()
	docs := map[string]any{}
	load := func(rel string) (any, error) {
		if d, ok := docs[rel]; ok {
			return d, nil
		}
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		d, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		if err := c.AddResource(cs.url(rel, ""), d); err != nil {
			return nil, err
		}
		docs[rel] = d
		return d, nil
	}
	compile := func(rel, frag string) (*jsonschema.Schema, error) {
		if _, err := load(rel); err != nil {
			return nil, err
		}
		return c.Compile(cs.url(rel, frag))
	}
	// methods maps each method of a union file to its params definition.
	methods := func(rel string) (map[string]string, error) {
		d, err := load(rel)
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		root, _ := d.(map[string]any)
		members, _ := root["oneOf"].([]any)
		for _, m := range members {
			props, _ := m.(map[string]any)["properties"].(map[string]any)
			method, _ := props["method"].(map[string]any)
			enum, _ := method["enum"].([]any)
			params, _ := props["params"].(map[string]any)
			ref, _ := params["$ref"].(string)
			if len(enum) != 1 || !strings.HasPrefix(ref, "#/definitions/") {
				continue // no params (a notification without them)
			}
			out[enum[0].(string)] = ref
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no methods found", rel)
		}
		return out, nil
	}
	for _, u := range []struct {
		file string
		into map[string]*jsonschema.Schema
	}{
		{"ServerNotification.json", cs.notifications},
		{"ServerRequest.json", cs.requests},
		{"ClientRequest.json", cs.clientParams},
	} {
		ms, err := methods(u.file)
		if err != nil {
			return nil, err
		}
		for method, ref := range ms {
			if _, ours := protocol.LookupMethod(method); !ours {
				continue // compile only what we can meet
			}
			sch, err := compile(u.file, ref)
			if err != nil {
				return nil, fmt.Errorf("%s%s: %w", u.file, ref, err)
			}
			u.into[method] = sch
			if u.file != "ClientRequest.json" {
				continue
			}
			name := strings.TrimSuffix(ref[strings.LastIndex(ref, "/")+1:], "Params") + "Response"
			var found bool
			for _, sub := range []string{"v2", "", "v1"} {
				rel := filepath.Join(sub, name+".json")
				if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
					continue
				}
				if cs.results[method], err = compile(rel, ""); err != nil {
					return nil, fmt.Errorf("%s: %w", rel, err)
				}
				found = true
				break
			}
			if !found {
				return nil, fmt.Errorf("no response definition %s for %s in %s", name, method, dir)
			}
		}
	}
	for _, m := range protocol.Methods {
		if m.Extension {
			continue
		}
		var ok bool
		switch m.Direction {
		case protocol.ClientRequest:
			_, ok = cs.results[m.Name]
		case protocol.ServerRequest:
			_, ok = cs.requests[m.Name]
		case protocol.ServerNotification:
			_, ok = cs.notifications[m.Name]
		default:
			ok = true
		}
		if !ok {
			return nil, fmt.Errorf("method %s is not an extension but %s has no definition for it", m.Name, dir)
		}
	}
	if cs.jsonrpcError, err = compile("JSONRPCError.json", ""); err != nil {
		return nil, err
	}
	return cs, nil
}

func (cs *codexSchemas) url(rel, frag string) string {
	return "file://" + filepath.ToSlash(filepath.Join(cs.dir, rel)) + frag
}

// codexSchemas returns the Codex schema or fails the test.
func (s *server) codexSchemas() *codexSchemas {
	cs, err := codex()
	if err != nil {
		s.t.Errorf("loading the Codex schema from CODEX_SCHEMA_DIR: %v", err)
		return nil
	}
	return cs
}

// codexCheck validates raw against sch and counts it in n.
func (s *server) codexCheck(sch *jsonschema.Schema, raw []byte, what string, msg []byte, n *atomic.Int64) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		s.t.Errorf("%s: %v", what, err)
		return
	}
	if err := sch.Validate(v); err != nil {
		s.t.Errorf("%s is not valid against the Codex 0.169.0 schema %s:\n%v\nmessage: %s", what, sch.Location, err, msg)
		return
	}
	n.Add(1)
}

// validateIncomingCodex checks a server message against the Codex schema.
func (s *server) validateIncomingCodex(m msg) {
	cs := s.codexSchemas()
	if cs == nil {
		return
	}
	switch {
	case m.isRequest():
		if isExtension(m.Method) {
			codexValidated.extension.Add(1)
			return
		}
		sch := cs.requests[m.Method]
		if sch == nil {
			s.t.Errorf("server request %s has no Codex definition: %s", m.Method, m.Raw)
			return
		}
		s.codexCheck(sch, m.Params, "params of server request "+m.Method, m.Raw, &codexValidated.serverRequests)
	case m.Method != "":
		if isExtension(m.Method) {
			codexValidated.extension.Add(1)
			return
		}
		sch := cs.notifications[m.Method]
		if sch == nil {
			s.t.Errorf("notification %s has no Codex definition: %s", m.Method, m.Raw)
			return
		}
		s.codexCheck(sch, m.Params, "params of notification "+m.Method, m.Raw, &codexValidated.notifications)
	case m.Error != nil:
		s.codexCheck(cs.jsonrpcError, m.Raw, "error response", m.Raw, &codexValidated.errors)
	default:
		s.mu.Lock()
		method := s.methods[string(m.ID)]
		s.mu.Unlock()
		if isExtension(method) {
			codexValidated.extension.Add(1)
			return
		}
		if sch := cs.results[method]; sch != nil {
			s.codexCheck(sch, m.Result, "result of "+method, m.Raw, &codexValidated.results)
		}
	}
}

// validateOutgoingCodex checks a request we send against the Codex schema.
func (s *server) validateOutgoingCodex(b []byte) {
	cs := s.codexSchemas()
	if cs == nil {
		return
	}
	var probe struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		s.t.Errorf("client request: %v", err)
		return
	}
	if isExtension(probe.Method) {
		codexValidated.extension.Add(1)
		return
	}
	if sch := cs.clientParams[probe.Method]; sch != nil {
		s.codexCheck(sch, probe.Params, "params of client request "+probe.Method, b, &codexValidated.clientRequests)
	}
}

func isExtension(method string) bool {
	m, ok := protocol.LookupMethod(method)
	return ok && m.Extension
}

// reportCodexValidation prints how many messages were validated against the
// Codex schema; TestMain calls it after the tests ran.
func reportCodexValidation() {
	cs, err := codex()
	if cs == nil || err != nil {
		fmt.Println("codex schema: not checked (set CODEX_SCHEMA_DIR, or run `make compat`)")
		return
	}
	v := &codexValidated
	var total int64
	var parts []string
	for _, c := range []struct {
		what string
		n    int64
	}{
		{"notifications", v.notifications.Load()}, {"server requests", v.serverRequests.Load()},
		{"results", v.results.Load()}, {"error responses", v.errors.Load()}, {"client requests", v.clientRequests.Load()},
	} {
		total += c.n
		parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
	}
	fmt.Printf("codex schema: %d messages validated against Codex 0.169.0 (%s); %d extension messages checked against our schema only\n",
		total, strings.Join(parts, ", "), v.extension.Load())
}

// TestCodexSchemaRejectsBadMessages makes sure the Codex definitions are the
// ones applied: a message Codex accepts passes, and the same message without
// a field Codex requires fails.
func TestCodexSchemaRejectsBadMessages(t *testing.T) {
	cs, err := codex()
	if err != nil {
		t.Fatal(err)
	}
	if cs == nil {
		t.Skip("CODEX_SCHEMA_DIR is not set: run `make compat`")
	}
	check := func(sch *jsonschema.Schema, raw string) error {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		return sch.Validate(v)
	}
	item := `{"type": "agentMessage", "id": "m", "text": "hi"}`
	good := `{"threadId": "t", "turnId": "u", "item": ` + item + `, "startedAtMs": 1}`
	if err := check(cs.notifications["item/started"], good); err != nil {
		t.Errorf("valid item/started rejected: %v", err)
	}
	if err := check(cs.notifications["item/started"], strings.Replace(good, `, "startedAtMs": 1`, ``, 1)); err == nil {
		t.Errorf("item/started without startedAtMs accepted")
	}
	if err := check(cs.requests["item/commandExecution/requestApproval"], `{"threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 1, "kind": null}`); err == nil {
		t.Errorf("approval params with kind null accepted")
	}
	if err := check(cs.results["thread/start"], `{}`); err == nil {
		t.Errorf("empty thread/start result accepted")
	}
	if err := check(cs.clientParams["turn/start"], `{"threadId": "t", "input": [{"type": "text"}]}`); err == nil {
		t.Errorf("turn/start with a text input without text accepted")
	}
}

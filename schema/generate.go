package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"app-server/protocol"
)

// SchemaVersion is the JSON Schema dialect of every generated file.
const SchemaVersion = "http://json-schema.org/draft-07/schema#"

// BundleFile is the name of the file holding every definition.
const BundleFile = "app_server_protocol.schemas.json"

// Generate returns the JSON Schema files of the protocol, keyed by file name:
// one per params, result and notification type, the method unions
// (ClientRequest, ServerRequest, ClientNotification, ServerNotification), the
// JSON-RPC envelope (JSONRPCMessage and its parts, RequestId) and a bundle of
// every definition. Output is deterministic: sorted keys, two-space
// indentation, a trailing newline.
//
// Descriptions come from the doc comments of package protocol, read from its
// source directory; Generate fails when the source is not available (as in
// an installed binary, which embeds the generated files instead).
func Generate() (map[string][]byte, error) {
	comments, err := protocolComments()
	if err != nil {
		return nil, err
	}
	p, err := buildPool(protocolRoots(), flowComments(comments))
	if err != nil {
		return nil, err
	}
	return p.files()
}

// files lays the pool out as files.
func (p *pool) files() (map[string][]byte, error) {
	docs := map[string]map[string]any{}

	// One file per root type.
	for _, name := range p.roots {
		docs[name+".json"] = p.document(name, deepCopy(p.defs[name]).(map[string]any))
	}

	unions := p.methodUnions()
	for name, u := range unions {
		docs[name+".json"] = p.document(name, deepCopy(u).(map[string]any))
	}

	msg := map[string]any{
		"anyOf": []any{
			ref("JSONRPCRequest"), ref("JSONRPCNotification"), ref("JSONRPCResponse"), ref("JSONRPCError"),
		},
		"description": "Any JSON-RPC message of the protocol. The \"jsonrpc\":\"2.0\" member is omitted on output and optional on input.",
	}
	unions["JSONRPCMessage"] = msg
	docs["JSONRPCMessage.json"] = p.document("JSONRPCMessage", deepCopy(msg).(map[string]any))

	// The bundle: every definition plus the unions, under one title.
	all := map[string]any{}
	for name, def := range p.defs {
		all[name] = def
	}
	for name, u := range unions {
		if _, clash := all[name]; clash {
			panic("schema: method union " + name + " has the name of a protocol type")
		}
		all[name] = u
	}
	docs[BundleFile] = map[string]any{
		"$schema":     SchemaVersion,
		"definitions": all,
		"title":       "AppServerProtocol",
		"type":        "object",
	}

	out := make(map[string][]byte, len(docs))
	for name, doc := range docs {
		b, err := marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("schema: %s: %w", name, err)
		}
		out[name] = b
	}
	return out, nil
}

// document makes root a standalone schema titled title, with the definitions
// it refers to, transitively.
func (p *pool) document(title string, root map[string]any) map[string]any {
	refs := map[string]bool{}
	refsOf(root, refs)
	if len(refs) > 0 {
		defs := map[string]any{}
		for _, name := range reachable(p.defs, slices.Sorted(maps.Keys(refs))) {
			defs[name] = p.defs[name]
		}
		root["definitions"] = defs
	}
	root["$schema"] = SchemaVersion
	root["title"] = title
	return root
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/definitions/" + name}
}

// methodTitle is the title of a method's variant in a method union:
// ThreadStartParams -> ThreadStartRequest, InitializedParams ->
// InitializedNotification, ThreadStartedNotification unchanged.
func methodTitle(m protocol.Method) string {
	base := strings.TrimSuffix(defName(m.Params), "Params")
	switch m.Direction {
	case protocol.ClientRequest, protocol.ServerRequest:
		return base + "Request"
	default:
		return strings.TrimSuffix(base, "Notification") + "Notification"
	}
}

// methodUnions builds ClientRequest, ServerRequest, ClientNotification and
// ServerNotification: a oneOf over the methods of each direction, in table
// order, told apart by "method".
func (p *pool) methodUnions() map[string]map[string]any {
	type union struct {
		name, desc string
		dir        protocol.Direction
	}
	out := map[string]map[string]any{}
	for _, u := range []union{
		{"ClientRequest", "Request from the client to the server.", protocol.ClientRequest},
		{"ServerRequest", "Request initiated from the server and sent to the client.", protocol.ServerRequest},
		{"ClientNotification", "Notification sent from the client to the server.", protocol.ClientNotification},
		{"ServerNotification", "Notification sent from the server to the client.", protocol.ServerNotification},
	} {
		var variants []any
		for _, m := range protocol.Methods {
			if m.Direction != u.dir {
				continue
			}
			title := methodTitle(m)
			props := map[string]any{
				"method": map[string]any{"enum": []any{m.Name}, "title": title + "Method", "type": "string"},
			}
			required := []string{"method"}
			if !isEmptyNotification(m) {
				props["params"] = ref(defName(m.Params))
				required = append(required, "params")
			}
			if u.dir == protocol.ClientRequest || u.dir == protocol.ServerRequest {
				props["id"] = ref("RequestId")
				required = append(required, "id")
			}
			slices.Sort(required)
			v := map[string]any{
				"properties": props,
				"required":   toAnySlice(required),
				"title":      title,
				"type":       "object",
			}
			if m.Extension {
				v["description"] = "Extension: not part of the Codex app-server protocol."
			}
			variants = append(variants, v)
		}
		def := map[string]any{"oneOf": variants, "description": u.desc}
		if u.dir == protocol.ServerNotification {
			def["properties"] = map[string]any{
				"emittedAtMs": map[string]any{
					"description": "Unix timestamp (in milliseconds) when the server emitted this notification.",
					"format":      "int64",
					"type":        "integer",
				},
			}
		}
		out[u.name] = def
	}
	return out
}

// marshal writes v as indented JSON with a trailing newline. Maps are
// written with sorted keys by encoding/json.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

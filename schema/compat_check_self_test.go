package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestComparerFindsDifferences runs the comparison behind TestCompatWithCodex
// on small hand-written schemas, so the checker is tested without Codex.
func TestComparerFindsDifferences(t *testing.T) {
	const theirs = `{"definitions": {
	  "K": {"type": "string", "enum": ["a", "b"]},
	  "U": {"oneOf": [
	    {"type": "object", "properties": {"type": {"type": "string", "enum": ["one"]}, "x": {"type": "string"}}, "required": ["type", "x"]},
	    {"type": "object", "properties": {"type": {"type": "string", "enum": ["two"]}}, "required": ["type"]},
	    {"type": "string", "enum": ["plain"]}
	  ]}
	},
	"type": "object",
	"properties": {
	  "s": {"type": "string"},
	  "n": {"type": ["integer", "null"]},
	  "k": {"$ref": "#/definitions/K"},
	  "u": {"anyOf": [{"$ref": "#/definitions/U"}, {"type": "null"}]},
	  "l": {"type": "array", "items": {"type": "string"}}
	},
	"required": ["s"]}`
	const good = `{"definitions": {
	  "K": {"type": "string", "enum": ["a", "b"]},
	  "U": {"oneOf": [
	    {"type": "object", "properties": {"type": {"type": "string", "enum": ["one"]}, "x": {"type": "string"}, "extra": {"type": "string"}}, "required": ["type", "x"]},
	    {"type": "object", "properties": {"type": {"type": "string", "enum": ["two"]}}, "required": ["type"]},
	    {"type": "string", "enum": ["plain"]}
	  ]}
	},
	"type": "object",
	"properties": {
	  "s": {"type": "string"},
	  "n": {"type": "integer"},
	  "k": {"allOf": [{"$ref": "#/definitions/K"}]},
	  "u": {"anyOf": [{"$ref": "#/definitions/U"}, {"type": "null"}]},
	  "l": {"type": "array", "items": {"type": "string"}},
	  "ours": {"type": "string"}
	},
	"required": ["s", "ours"]}`
	cases := []struct {
		name, old, new, want string
		f                    travel
	}{
		{"same", "", "", "", toClient},
		{"property", `"s": {"type": "string"},`, ``, `X.s: property missing in ours`, toClient},
		{"required", `"required": ["s", "ours"]`, `"required": ["ours"]`, `published type requires "s"`, toClient},
		{"our required", ``, ``, `ours requires "ours"`, toServer},
		{"nullable same", `"n": {"type": "integer"}`, `"n": {"type": ["integer", "null"]}`, ``, toClient},
		{"nullable out", `"s": {"type": "string"}`, `"s": {"type": ["string", "null"]}`, `X.s: ours is nullable`, toClient},
		{"nullable in", ``, ``, `X.n: published type is nullable`, toServer},
		{"base type", `"l": {"type": "array", "items": {"type": "string"}}`, `"l": {"type": "array", "items": {"type": "integer"}}`, `X.l[]: ours is integer, the published type is string`, toClient},
		{"enum value", `"enum": ["a", "b"]}`, `"enum": ["a"]}`, `X.k<b>: enum value "b" missing`, toClient},
		{"enum extra", `"enum": ["a", "b"]}`, `"enum": ["a", "b", "c"]}`, `we may send enum value "c"`, toClient},
		{"variant", `{"type": "object", "properties": {"type": {"type": "string", "enum": ["two"]}}, "required": ["type"]},`, ``, `X.u<type=two>: union member type=two missing in ours`, toClient},
		{"variant field", `"x": {"type": "string"}, "extra"`, `"y": {"type": "string"}, "extra"`, `X.u<type=one>.x: property missing in ours`, toClient},
		{"string member", `{"type": "string", "enum": ["plain"]}`, `{"type": "string", "enum": ["other"]}`, `X.u<plain>: string value "plain" missing`, toClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ours := strings.Replace(good, tc.old, tc.new, 1)
			if tc.old != "" && ours == good {
				t.Fatalf("replacement %q not found", tc.old)
			}
			c := newComparer(writeSchemaDir(t, theirs), writeSchemaDir(t, ours), map[string]string{})
			c.checkDefinition("X", tc.f)
			got := strings.Join(c.problems, "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", got, tc.want)
			}
		})
	}
	t.Run("notModeled", func(t *testing.T) {
		ours := strings.Replace(good, `{"type": "object", "properties": {"type": {"type": "string", "enum": ["two"]}}, "required": ["type"]},`, ``, 1)
		c := newComparer(writeSchemaDir(t, theirs), writeSchemaDir(t, ours), map[string]string{"U<type=two>": "test"})
		c.checkDefinition("X", toClient)
		if len(c.problems) > 0 || !c.usedNM["U<type=two>"] {
			t.Errorf("problems %q, used %v", c.problems, c.usedNM)
		}
	})
}

func writeSchemaDir(t *testing.T, doc string) *schemaSet {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "X.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return newSchemaSet(dir)
}

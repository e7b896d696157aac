// Package appserver holds what the app-server binary ships besides code:
// the generated JSON Schema and TypeScript files of the protocol.
//
// They are the golden files of package schema, embedded as they are
// committed, so that "app-server generate-json-schema" and "generate-ts"
// write exactly what the tests pinned, without the source tree the
// generator needs for doc comments.
package appserver

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed testdata/schema/json testdata/schema/typescript
var schemaFiles embed.FS

// JSONFiles returns the JSON Schema files (testdata/schema/json), rooted at
// that directory.
func JSONFiles() fs.FS { return sub("testdata/schema/json") }

// TypeScriptFiles returns the TypeScript files (testdata/schema/typescript),
// rooted at that directory.
func TypeScriptFiles() fs.FS { return sub("testdata/schema/typescript") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(schemaFiles, dir)
	if err != nil {
		panic(err) // dir is a constant embedded above
	}
	return f
}

// WriteDir writes every file of fsys under dir, creating directories as
// needed and overwriting files that exist: how the binary writes the files
// it embeds (generate-json-schema, generate-ts). It lives here rather than
// in package schema so that the binary does not link the generator: its
// dependencies (invopop/jsonschema, a YAML library, go/parser) are
// initialized by every process that links them, the server included.
func WriteDir(fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

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

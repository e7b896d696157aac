// Package schema generates the JSON Schema and TypeScript definitions of the
// protocol from the Go types in package protocol.
//
// Generation is a pure function (Generate, GenerateTypeScript) returning file
// names and bytes; the golden files under testdata/schema are compared with
// its output by the tests in this package. Regenerate them with
//
//	go test ./schema -update
//
// The generator reads the doc comments of package protocol from its source
// directory, so it runs only in a source tree; the app-server binary embeds
// the golden files instead and writes them with app-server's WriteDir
// (schemafiles.go), without linking this package. README.md explains the
// generator's decisions.
package schema

//go:generate go test . -update

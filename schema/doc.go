// Package schema generates the JSON Schema and TypeScript definitions of the
// protocol from the Go types in package protocol.
//
// Generation is a pure function (Generate, GenerateTypeScript) returning file
// names and bytes; the golden files under testdata/schema are compared with
// its output by the tests in this package. Regenerate them with
//
//	go test ./schema -update
package schema

// Package e2e holds the end-to-end tests: they build the app-server binary,
// spawn it over pipes the way an IDE extension does, drive whole flows
// (turns, approvals, network prompts with real curl against servers on
// 127.0.0.1), and validate every message in both directions against the
// generated JSON Schema in testdata/schema/json.
package e2e

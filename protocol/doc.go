// Package protocol defines every message of the app-server wire protocol as
// Go types. It is the single source of truth: the JSON Schema and TypeScript
// that clients consume are generated from these types by package schema.
//
// The protocol is the Codex app-server protocol (v2 method names and shapes)
// plus a few additive extensions, marked as such where they are declared.
//
// Wire rules, stated once so struct tags can be checked against them:
//
//   - Field names are camelCase on the wire; every exported field has a json tag.
//   - Client-to-server params: optional fields are pointers (or slices) with
//     omitempty; absent and null mean the same thing.
//   - Server-to-client payloads (responses, notifications, server requests):
//     a field is never omitted unless marked omitempty on purpose; an absent
//     value is written as null (nil pointer, no omitempty). Fields marked
//     omitempty in server payloads are those the published schema leaves out
//     (for example the command keys of a network approval).
//   - Lists in server payloads are always written as [] when empty, never null,
//     unless the published type is nullable ([]T with a "nullable" comment).
//   - Unknown input fields are ignored.
//   - In the generated schema (package schema), a pointer field is nullable;
//     a field is required when it is not a pointer and has no omitempty, or
//     when it is tagged jsonschema:"required" (Thread.ProjectID: always sent,
//     possibly null); an omitempty slice or map is a nullable array or object
//     and not required, an omitzero one may be absent but is never null;
//     embedded structs are inlined. In TypeScript a field
//     is optional (name?:) exactly when it has omitempty.
//   - Unions (UserInput, ThreadItem, CommandAction, ThreadStatus,
//     CommandExecutionApprovalDecision, SandboxPolicy) have hand-written
//     MarshalJSON and UnmarshalJSON; decoding an unknown tag or a missing
//     required field is an error naming it.
//   - Ids (threads, turns, items) are strings at this boundary.
//   - Timestamps ending in At are unix seconds; those ending in AtMs are unix
//     milliseconds.
//
// This package imports only the standard library.
package protocol

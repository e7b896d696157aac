package model

import (
	"encoding/json"
	"sync"
)

// Tool names, as Codex 0.169.0 names them: models tuned on Codex call
// exactly these.
const (
	ToolExecCommand = "exec_command"
	ToolApplyPatch  = "apply_patch"
)

// ExecCommandArgs are the arguments of an exec_command call.
type ExecCommandArgs struct {
	Cmd             string `json:"cmd"`
	Workdir         string `json:"workdir,omitempty"`
	YieldTimeMs     *int64 `json:"yield_time_ms,omitempty"`
	MaxOutputTokens *int64 `json:"max_output_tokens,omitempty"`
}

// ApplyPatchArgs are the arguments of an apply_patch function call.
type ApplyPatchArgs struct {
	Input string `json:"input"`
}

// Tools returns the tool definitions every request carries. They are
// built on first use: marshaling them when the package is initialized cost
// every server process 160 allocations at startup, model used or not.
var Tools = sync.OnceValue(func() []json.RawMessage {
	return []json.RawMessage{
		mustJSON(map[string]any{
			"type": "function", "name": ToolExecCommand, "strict": false,
			"description": "Runs a command in a shell and returns its output and exit code.",
			"parameters": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"cmd"},
				"properties": map[string]any{
					"cmd":               map[string]any{"type": "string", "description": "Shell command to execute."},
					"workdir":           map[string]any{"type": "string", "description": "Optional working directory to run the command in; defaults to the turn cwd."},
					"yield_time_ms":     map[string]any{"type": "number", "description": "How long to wait (in milliseconds) for output before yielding."},
					"max_output_tokens": map[string]any{"type": "number", "description": "Maximum number of tokens to return. Excess output will be truncated."},
				},
			},
		}),
		mustJSON(map[string]any{
			"type": "function", "name": ToolApplyPatch, "strict": false,
			"description": applyPatchDescription,
			"parameters": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"input"},
				"properties": map[string]any{
					"input": map[string]any{"type": "string", "description": "The entire contents of the apply_patch command"},
				},
			},
		}),
	}
})

const applyPatchDescription = `Use the apply_patch tool to edit files. The patch language is a stripped-down, file-oriented diff format:

*** Begin Patch
[ one or more file sections ]
*** End Patch

Each file section starts with one of:
*** Add File: <path> - create a new file; every following line starts with +
*** Delete File: <path> - remove an existing file
*** Update File: <path> - patch an existing file in place, optionally followed by *** Move to: <new path>

An update has one or more hunks, each introduced by @@ (optionally followed by a line such as a class or function header that locates it), then lines starting with ' ' (context), '-' (removed) or '+' (added). Show 3 lines of context around each change. Paths are relative to the working directory, never absolute.`

package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
)

// helperArg is the hidden first argument that makes the binary the
// sandbox helper instead of the server. RunHelper recognises it.
const helperArg = "__sandbox-helper"

// helperWired is set by RunHelper: Wrap refuses to run when the binary
// would not recognise the helper arguments (it would run itself again
// with them, as the server or a test binary).
var helperWired atomic.Bool

// exitSetupFailed is the exit status of a stage that could not set the
// sandbox up; the reason is on stderr.
const exitSetupFailed = 125

// request is what the server tells the helper, as JSON in its argv.
type request struct {
	Policy Policy `json:"policy"`
	// UID and GID are the server's, which the command gets back.
	UID int `json:"uid"`
	GID int `json:"gid"`
	// Path is the resolved program; Args its argv (Args[0] as given).
	Path string   `json:"path"`
	Args []string `json:"args"`
	// Dir and Env are the command's working directory and environment,
	// sent to a spare helper only (a cold one is started with them).
	Dir string   `json:"dir,omitempty"`
	Env []string `json:"env,omitempty"`
}

func (r *request) encode() string {
	b, err := json.Marshal(r)
	if err != nil {
		panic("sandbox: encoding a request: " + err.Error())
	}
	return string(b)
}

func decodeRequest(s string) (*request, error) {
	var r request
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("sandbox: bad request: %w", err)
	}
	if err := r.Policy.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// fatalf ends a helper that could not set the sandbox up: the command does
// not run, and the message says why.
func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "app-server sandbox: "+format+"\n", args...)
	os.Exit(exitSetupFailed)
}

// DeniedBySeccomp reports whether a sandboxed command's exit status says
// a signal SIGSYS killed it (the helper exits 128+N for signal N).
func DeniedBySeccomp(exitCode int) bool { return exitCode == sigsysExit }

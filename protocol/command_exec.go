package protocol

// CommandExecParams runs one command outside any thread, under the same
// sandbox and network rules as a turn's commands.
type CommandExecParams struct {
	// Command is the argv; it is not passed through a shell.
	Command []string `json:"command"`
	Cwd     *string  `json:"cwd,omitempty"`
	// Env adds or (with null) removes environment variables.
	Env map[string]*string `json:"env,omitempty"`
	// TimeoutMs kills the command after this long (default 10 s unless
	// DisableTimeout).
	TimeoutMs      *int64 `json:"timeoutMs,omitempty"`
	DisableTimeout bool   `json:"disableTimeout,omitempty"`
	// ProcessID names the execution in command/exec/outputDelta notifications.
	ProcessID *string `json:"processId,omitempty"`
	// StreamStdoutStderr asks for command/exec/outputDelta notifications.
	StreamStdoutStderr bool    `json:"streamStdoutStderr,omitempty"`
	OutputBytesCap     *uint64 `json:"outputBytesCap,omitempty"`
	DisableOutputCap   bool    `json:"disableOutputCap,omitempty"`
	// SandboxPolicy runs the command under this sandbox instead of the
	// configured one (as turn/start's: its type is the mode,
	// workspaceWrite's writableRoots are added).
	SandboxPolicy *SandboxPolicy `json:"sandboxPolicy,omitempty"`
}

// CommandExecResponse is the command's result.
type CommandExecResponse struct {
	ExitCode int32  `json:"exitCode"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

// CommandExecOutputStream labels a command/exec/outputDelta chunk.
type CommandExecOutputStream string

const (
	StreamStdout CommandExecOutputStream = "stdout"
	StreamStderr CommandExecOutputStream = "stderr"
)

// EnumValues implements Enum.
func (CommandExecOutputStream) EnumValues() []string {
	return enumStrings([]CommandExecOutputStream{StreamStdout, StreamStderr})
}

// CommandExecOutputDeltaNotification streams output of a command/exec call.
type CommandExecOutputDeltaNotification struct {
	ProcessID   string                  `json:"processId"`
	Stream      CommandExecOutputStream `json:"stream"`
	DeltaBase64 string                  `json:"deltaBase64"`
	CapReached  bool                    `json:"capReached"`
}

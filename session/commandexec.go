package session

import (
	"context"
	"encoding/base64"
	"math"
	"os"
	"strings"
	"time"

	"app-server/netapproval"
	"app-server/protocol"

	"github.com/google/uuid"
)

// defaultExecTimeout bounds a command/exec call that sets no timeout.
const defaultExecTimeout = 10 * time.Second

// ExecCommand serves command/exec: one command outside any thread, run
// directly (no shell) under the same sandbox and network rules as a turn's
// commands. There is no turn to ask in, so destinations that no rule allows
// are denied without a prompt. It blocks until the command ends; rpc runs it
// on a lane of its own.
func (m *Manager) ExecCommand(ctx context.Context, p *protocol.CommandExecParams) (*protocol.CommandExecResponse, error) {
	if len(p.Command) == 0 || p.Command[0] == "" {
		return nil, invalidParams("command must name a program")
	}
	// Shutdown waits for the command, so that it is gone before the server.
	done, ok := m.enterWork()
	if !ok {
		return nil, protocol.Errorf(protocol.ErrRequestCancelled, "server is shutting down")
	}
	defer done()
	cwd, err := requestCwd(p.Cwd)
	if err != nil {
		return nil, err
	}
	if cwd == "" {
		cwd = m.cfg.Cwd
	}
	timeout := defaultExecTimeout
	if p.TimeoutMs != nil {
		// A time.Duration counts nanoseconds in an int64: beyond this many
		// milliseconds it would wrap around and end the command at once.
		const maxTimeoutMs = math.MaxInt64 / int64(time.Millisecond)
		if *p.TimeoutMs <= 0 || *p.TimeoutMs > maxTimeoutMs {
			return nil, invalidParams("timeoutMs must be between 1 and %d (about 292 years), got %d; use disableTimeout for no timeout", maxTimeoutMs, *p.TimeoutMs)
		}
		timeout = time.Duration(*p.TimeoutMs) * time.Millisecond
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(m.ctx, cancel) // server shutdown stops it too
	defer stop()
	if !p.DisableTimeout {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, timeout)
		defer cancelTimeout()
	}

	// The request's env changes come after the policy, as in Codex: the
	// client may set what the policy drops.
	env := execEnv(m.cfg.EnvPolicy.Apply(os.Environ()), p.Env)
	id := newID()
	processID := id.String()
	if p.ProcessID != nil {
		processID = *p.ProcessID
	}
	mode, extraRoots, err := turnSandbox(p.SandboxPolicy)
	if err != nil {
		return nil, err
	}
	if mode == nil {
		mode = &m.cfg.Sandbox
	}
	if m.net != nil && *mode != protocol.SandboxDangerFullAccess {
		att, release, err := m.attachDetached(id, p.Command)
		if err != nil {
			return nil, protocol.Errorf(protocol.ErrInternal, "network proxy unavailable: %v", err)
		}
		defer release()
		env = append(env, att.Env()...)
	}

	box, err := m.commandSandbox(*mode, cwd, env, extraRoots)
	if err != nil {
		return nil, protocol.Errorf(protocol.ErrInternal, "%v", err)
	}
	spec := ProcessSpec{Argv: p.Command, Dir: cwd, Env: env, SeparateStderr: true, Hurry: m.ctx.Done(), Sandbox: box, Spares: m.sandbox.spares}
	if p.StreamStdoutStderr {
		delta := func(stream protocol.CommandExecOutputStream) func([]byte) {
			return func(chunk []byte) {
				m.notifyRequester(ctx, protocol.MethodCommandExecOutput, protocol.CommandExecOutputDeltaNotification{
					ProcessID: processID, Stream: stream, DeltaBase64: base64.StdEncoding.EncodeToString(chunk),
				})
			}
		}
		spec.OnOutput, spec.OnStderr = delta(protocol.StreamStdout), delta(protocol.StreamStderr)
	}
	res := RunProcess(ctx, spec)
	if res.Err != nil {
		return nil, invalidParams("cannot run %q: %v", p.Command[0], res.Err)
	}
	return &protocol.CommandExecResponse{ExitCode: res.ExitCode, Stdout: res.Output, Stderr: res.Stderr}, nil
}

// attachDetached gives a command outside any thread its proxy credential,
// under a network service of its own that never prompts. The service is
// named by the command's id, a UUIDv7 like every thread's, so it cannot
// collide with a thread.
func (m *Manager) attachDetached(id uuid.UUID, argv []string) (*netapproval.Attachment, func(), error) {
	threadID := id.String()
	deny := netapproval.PrompterFunc(func(context.Context, netapproval.PromptRequest) (netapproval.Answer, error) {
		return netapproval.Answer{Kind: netapproval.AnswerDecline}, nil
	})
	nt, err := m.net.OpenThread(threadID, deny)
	if err != nil {
		return nil, nil, err
	}
	att, err := m.net.Attach(netapproval.ExecInfo{ThreadID: threadID, CommandID: threadID, Command: argv[0], PromptsAllowed: false})
	if err != nil {
		nt.Close()
		return nil, nil, err
	}
	return att, func() { att.Close(); nt.Close() }, nil
}

// execEnv applies command/exec's env changes: a value sets a variable, null
// removes it.
func execEnv(base []string, changes map[string]*string) []string {
	if len(changes) == 0 {
		return base
	}
	out := make([]string, 0, len(base)+len(changes))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if _, changed := changes[name]; !changed {
			out = append(out, kv)
		}
	}
	for name, v := range changes {
		if v != nil {
			out = append(out, name+"="+*v)
		}
	}
	return out
}

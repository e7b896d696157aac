package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"app-server/netapproval"
	"app-server/protocol"
	"app-server/session/rollout"
	"app-server/session/shellcmd"

	"github.com/google/uuid"
)

// gate is what the command policy decided about a command.
type gate int

const (
	gateRun gate = iota
	gateDeclined
	gateCancelled // declined, and the turn is interrupted
	gateFailed    // the client answered the prompt with an error
)

// RunCommand implements Actions: it starts a commandExecution item, asks
// the client when the policy says so, runs the command with the thread's
// network attachment, streams its output and completes the item.
func (tu *turn) RunCommand(ctx context.Context, line string) CommandOutcome {
	return tu.runCommand(ctx, newID(), line, tu.settings.cwd)
}

// runCommand is RunCommand with the item's id and the command's directory.
func (tu *turn) runCommand(ctx context.Context, itemID uuid.UUID, line, cwd string) CommandOutcome {
	t, m := tu.t, tu.t.m
	startMs := m.nowMs()
	item := &protocol.CommandExecutionItem{
		ID: itemID.String(), Command: line, Cwd: cwd, Source: protocol.SourceAgent,
		Status: protocol.CommandInProgress, CommandActions: shellcmd.ParseCommandActions(line), StartedAtMs: &startMs,
	}
	// Persisted first, so that what the client sees is on disk.
	t.persistItemStarted(tu.id, protocol.ThreadItem{CommandExecution: ptrCopy(item)})
	tu.itemStarted(protocol.ThreadItem{CommandExecution: ptrCopy(item)}, startMs)

	decision, note := tu.commandGate(ctx, item, line)
	switch decision {
	case gateDeclined, gateCancelled, gateFailed:
		item.Status = protocol.CommandDeclined
		if decision == gateFailed {
			item.Status = protocol.CommandFailed
		}
		if note != "" {
			item.AggregatedOutput = &note
		}
		if decision == gateCancelled {
			t.interrupt(tu.id)
		}
		return tu.completeCommand(item, startMs)
	}

	env := m.cfg.EnvPolicy.Apply(os.Environ())
	var att *netapproval.Attachment
	if t.net != nil && tu.settings.sandbox != protocol.SandboxDangerFullAccess {
		a, err := m.net.Attach(netapproval.ExecInfo{
			ThreadID: t.id.String(), TurnID: tu.id.String(), CommandID: item.ID, Command: line,
			PromptsAllowed: tu.settings.policy != protocol.ApprovalNever,
		})
		if err != nil {
			// Fail closed: without its credential the command would get no
			// network at all, so refuse to run it rather than run it blind.
			msg := "network proxy unavailable: " + err.Error()
			item.Status, item.AggregatedOutput = protocol.CommandFailed, &msg
			return tu.completeCommand(item, startMs)
		}
		att = a
		env = append(env, a.Env()...)
	}

	box, err := m.commandSandbox(tu.settings.sandbox, tu.settings.cwd, env, tu.settings.extraRoots)
	if err != nil {
		// Fail closed: the mode cannot be enforced here.
		msg := err.Error() + "\n"
		item.Status, item.AggregatedOutput = protocol.CommandFailed, &msg
		if att != nil {
			att.Close()
		}
		return tu.completeCommand(item, startMs)
	}
	if box != nil && m.runsUnsandboxed(t.id, line) {
		box = nil
	}

	argv := append(slices.Clone(m.cfg.Shell), line)
	// The first MiB of output is persisted as it comes (not fsynced: it
	// is for a crash of the server, not of the machine); the item's
	// completion replaces it with the tail.
	persisted := 0
	spec := ProcessSpec{
		Argv: argv, Dir: cwd, Env: env, Hurry: m.ctx.Done(), Sandbox: box, Spares: m.sandbox.spares,
		OnOutput: func(chunk []byte) {
			if persisted < MaxOutputTail {
				persisted += len(chunk)
				if !t.persist(rollout.ItemOutputRecord(tu.id, item.ID, string(chunk)), false) {
					persisted = MaxOutputTail // one warning is enough
				}
			}
			m.notify(protocol.MethodCommandOutputDelta, protocol.CommandExecutionOutputDeltaNotification{
				ThreadID: t.id.String(), TurnID: tu.id.String(), ItemID: item.ID, Delta: string(chunk),
			})
		},
	}
	res := RunProcess(ctx, spec)
	if box != nil && looksLikeSandboxDenial(res) && tu.retryUnsandboxed(ctx, item, line) {
		spec.Sandbox = nil
		res = RunProcess(ctx, spec)
	}
	output := res.Output
	if res.Err != nil {
		output += res.Err.Error() + "\n"
	}
	if att != nil {
		if note := blockLines(att.Blocks()); note != "" {
			if output != "" && !strings.HasSuffix(output, "\n") {
				output += "\n" // the note starts on a line of its own
			}
			output += note
		}
		att.Close()
	}
	item.AggregatedOutput = &output
	code := res.ExitCode
	item.ExitCode = &code
	dur := res.Duration.Milliseconds()
	item.DurationMs = &dur
	item.Status = protocol.CommandCompleted
	if res.Err != nil || res.Interrupted || code != 0 {
		item.Status = protocol.CommandFailed
	}
	return tu.completeCommand(item, startMs)
}

func (tu *turn) completeCommand(item *protocol.CommandExecutionItem, startMs int64) CommandOutcome {
	end := tu.t.m.nowMs()
	item.CompletedAtMs = &end
	if item.DurationMs == nil && item.Status != protocol.CommandDeclined {
		d := end - startMs
		item.DurationMs = &d
	}
	tu.itemCompleted(protocol.ThreadItem{CommandExecution: item}, end)
	out := CommandOutcome{Status: item.Status, ExitCode: item.ExitCode}
	if item.AggregatedOutput != nil {
		out.Output = *item.AggregatedOutput
	}
	return out
}

// blockLines says, one line per destination, why the proxy refused the
// command's requests, so the item shows why the command failed; more
// counts the destinations refused past the ones listed.
func blockLines(blocks []netapproval.Block, more int) string {
	var b strings.Builder
	for _, bl := range blocks {
		proto, _ := wireProtocols.wire(bl.Key.Protocol)
		// The detail (what a local name resolved to) says more than the
		// reason's message when there is one.
		why := bl.Message
		if bl.Detail != "" {
			why = bl.Detail
		}
		fmt.Fprintf(&b, "[network] %s %s blocked: %s (%s): %s\n", proto, net.JoinHostPort(bl.Key.Host, strconv.Itoa(int(bl.Key.Port))), bl.Reason, bl.Source, why)
	}
	if more > 0 {
		fmt.Fprintf(&b, "[network] %d more destinations blocked\n", more)
	}
	return b.String()
}

// commandGate applies the command policy: persisted rules first (forbidden
// wins and never prompts), then the approval policy. It returns a note for
// the item's output when the command does not run.
func (tu *turn) commandGate(ctx context.Context, item *protocol.CommandExecutionItem, line string) (gate, string) {
	t, m := tu.t, tu.t.m
	if forbiddenByRule(m.rules, line) {
		return gateDeclined, "command forbidden by a rule in rules.toml\n"
	}
	// An allow rule covers only a line that is one plain command: a prefix
	// rule on `git` must not let `git status; rm -rf x` through.
	words, simple := shellcmd.SplitArgv(line)
	if simple {
		if d, ok := m.rules.Match(words); ok && d == CommandAllow {
			return gateRun, ""
		}
	}
	if tu.settings.policy != protocol.ApprovalUntrusted || tu.readOnly(ctx, line, item.Cwd) {
		return gateRun, ""
	}
	t.mu.Lock()
	accepted := t.sessionCommands[line]
	t.mu.Unlock()
	if accepted {
		return gateRun, ""
	}

	reason := "Running this command requires approval (approval policy: untrusted)"
	params := protocol.CommandExecutionRequestApprovalParams{
		ThreadID: t.id.String(), TurnID: tu.id.String(), ItemID: item.ID, Kind: protocol.ApprovalKindCommand, StartedAtMs: m.nowMs(),
		Reason: &reason, Command: &item.Command, Cwd: &item.Cwd, CommandActions: item.CommandActions,
		AvailableDecisions: []protocol.CommandExecutionApprovalDecision{protocol.Accept(), protocol.AcceptForSession()},
	}
	if simple {
		params.ProposedExecpolicyAmendment = words
		params.AvailableDecisions = append(params.AvailableDecisions, protocol.AcceptWithExecpolicyAmendment(words))
	}
	params.AvailableDecisions = append(params.AvailableDecisions, protocol.Decline(), protocol.Cancel())

	d, err := t.askCommand(ctx, params)
	if err != nil {
		var perr *protocol.Error
		if errors.As(err, &perr) {
			return gateFailed, "approval request failed: " + perr.Message + "\n"
		}
		return gateDeclined, "approval not given: " + err.Error() + "\n"
	}
	switch d.Kind {
	case protocol.DecisionAccept:
		return gateRun, ""
	case protocol.DecisionAcceptForSession:
		t.mu.Lock()
		t.sessionCommands[line] = true
		t.mu.Unlock()
		return gateRun, ""
	case protocol.DecisionAcceptWithExecpolicyAmendment:
		prefix := d.ExecpolicyAmendment
		if !simple || len(prefix) == 0 || len(prefix) > len(words) || !slices.Equal(prefix, words[:len(prefix)]) {
			m.warn(t.id, fmt.Sprintf("execpolicy amendment %q is not a prefix of the command %q; running it once without persisting a rule", prefix, line))
			return gateRun, ""
		}
		if err := m.rules.Add(prefix, CommandAllow); err != nil {
			m.log.Error("persisting command rule", "prefix", prefix, "err", err)
			m.warn(t.id, "could not persist the command rule: "+err.Error())
		}
		return gateRun, ""
	case protocol.DecisionCancel:
		return gateCancelled, "cancelled by the user\n"
	default: // decline, or a network amendment that means nothing for a command
		return gateDeclined, "declined by the user\n"
	}
}

// readOnly reports whether the command line, run in dir, is known not to
// change anything. git reading a repository is, unless the repository can
// make it run a program.
func (tu *turn) readOnly(ctx context.Context, line, dir string) bool {
	switch shellcmd.Classify(line) {
	case shellcmd.ReadOnly:
		return true
	case shellcmd.ReadsRepository:
		err := shellcmd.InertRepository(ctx, dir, nil)
		if err != nil {
			tu.t.m.log.Debug("git prompts", "command", line, "reason", err)
		}
		return err == nil
	}
	return false
}

// warn sends a warning notification for a thread.
func (m *Manager) warn(threadID uuid.UUID, msg string) {
	id := threadID.String()
	m.notify(protocol.MethodWarning, protocol.WarningNotification{ThreadID: &id, Message: msg})
}

func ptrCopy[T any](v *T) *T {
	c := *v
	return &c
}

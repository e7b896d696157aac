package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"app-server/protocol"
	"app-server/sandbox"
)

// AllowUnenforcedKey is the config key that lets commands run without the
// sandbox on a machine that cannot enforce it (named in the error and the
// warning, so users find it).
const AllowUnenforcedKey = "allow_unenforced_sandbox"

// SandboxConfig is what the configuration says about the sandbox besides
// the mode ([sandbox_workspace_write] and the opt-out).
type SandboxConfig struct {
	// WritableRoots are extra writable directories under workspace-write.
	WritableRoots []string
	// ExcludeSlashTmp and ExcludeTmpdirEnvVar keep /tmp and $TMPDIR out of
	// the writable roots.
	ExcludeSlashTmp     bool
	ExcludeTmpdirEnvVar bool
	// AllowUnenforced runs commands unsandboxed, with a warning, when the
	// machine cannot enforce their mode, instead of failing them.
	AllowUnenforced bool
}

// sandboxing is a Manager's sandbox state: what the machine enforces
// (probed once, on first use), the proxy's Unix sockets for the in-sandbox
// relay (opened once, on first use), and the commands each thread
// accepted to run unsandboxed for the session, and the spare helper that
// sandboxed commands start on (killed by Shutdown).
type sandboxing struct {
	support func() sandbox.Support
	spares  *sandbox.Spares

	socketsOnce sync.Once
	sockets     *sandbox.ProxySockets
	socketsErr  error

	mu          sync.Mutex
	unsandboxed map[uuid.UUID]map[string]bool // thread -> command lines
}

func newSandboxing(support func() sandbox.Support) *sandboxing {
	if support == nil {
		support = sync.OnceValue(sandbox.Probe)
	}
	return &sandboxing{support: support, spares: sandbox.NewSpares(), unsandboxed: make(map[uuid.UUID]map[string]bool)}
}

// prestartSandbox starts a spare sandbox helper when a thread's commands
// will run sandboxed under mode, so that its first command finds one
// ready (a helper started for the command would cost it several times
// more); a spare already there is kept.
func (m *Manager) prestartSandbox(mode protocol.SandboxMode) {
	if sandboxMode(mode) != sandbox.FullAccess && len(m.unenforced(mode)) == 0 {
		m.sandbox.spares.Prestart()
	}
}

// unenforced returns what the machine lacks to enforce mode; nil when it
// can, or when mode needs nothing.
func (m *Manager) unenforced(mode protocol.SandboxMode) []string {
	return m.sandbox.support().Missing(sandboxMode(mode))
}

func sandboxMode(mode protocol.SandboxMode) sandbox.Mode {
	switch mode {
	case protocol.SandboxReadOnly:
		return sandbox.ReadOnly
	case protocol.SandboxDangerFullAccess:
		return sandbox.FullAccess
	default:
		return sandbox.WorkspaceWrite
	}
}

// reportedSandbox is the sandbox a thread reports: its mode when the OS
// enforces it, dangerFullAccess when commands run unenforced (never a
// sandbox the OS is not enforcing).
func (m *Manager) reportedSandbox(mode protocol.SandboxMode) protocol.SandboxPolicy {
	if len(m.unenforced(mode)) > 0 {
		return protocol.SandboxPolicyFor(protocol.SandboxDangerFullAccess)
	}
	p := protocol.SandboxPolicyFor(mode)
	if p.WorkspaceWrite != nil {
		p.WorkspaceWrite.WritableRoots = append([]string{}, m.cfg.SandboxConfig.WritableRoots...)
		p.WorkspaceWrite.ExcludeSlashTmp = m.cfg.SandboxConfig.ExcludeSlashTmp
		p.WorkspaceWrite.ExcludeTmpdirEnvVar = m.cfg.SandboxConfig.ExcludeTmpdirEnvVar
	}
	return p
}

// unenforcedWarning is the warning sent when a thread starts under a mode
// this machine cannot enforce; "" when it is enforced. Without the
// opt-out its commands fail closed, and the warning says that, not that
// they run unrestricted.
func (m *Manager) unenforcedWarning(mode protocol.SandboxMode) string {
	missing := m.unenforced(mode)
	if len(missing) == 0 {
		return ""
	}
	if !m.cfg.SandboxConfig.AllowUnenforced {
		return fmt.Sprintf("sandbox %s cannot be enforced on this machine (missing %s): its commands fail; set %s = true in config.toml to run them without OS restrictions",
			mode, strings.Join(missing, ", "), AllowUnenforcedKey)
	}
	return fmt.Sprintf("sandbox %s is not enforced on this machine (missing %s): commands run without OS restrictions because %s = true",
		mode, strings.Join(missing, ", "), AllowUnenforcedKey)
}

// commandSandbox returns the sandbox policy of a command under mode in
// cwd with env, nil to run it unsandboxed (danger-full-access, or the
// opt-out on a machine that cannot enforce), or an error naming what is
// missing and the opt-out (fail closed).
func (m *Manager) commandSandbox(mode protocol.SandboxMode, cwd string, env []string, extraRoots string) (*sandbox.Policy, error) {
	sm := sandboxMode(mode)
	if sm == sandbox.FullAccess {
		return nil, nil
	}
	if missing := m.unenforced(mode); len(missing) > 0 {
		if m.cfg.SandboxConfig.AllowUnenforced {
			return nil, nil
		}
		return nil, fmt.Errorf("sandbox %s cannot be enforced on this machine: missing %s; set %s = true in config.toml to run commands without it",
			mode, strings.Join(missing, ", "), AllowUnenforcedKey)
	}
	p := &sandbox.Policy{Mode: sm, Network: sandbox.NetworkNone}
	if sm == sandbox.WorkspaceWrite {
		p.WritableRoots, p.ReadOnlyPaths = m.workspaceWriteRoots(cwd, envValue(env, "TMPDIR"), extraRoots)
	}
	if m.net != nil {
		sockets, err := m.proxySockets()
		if err != nil {
			return nil, fmt.Errorf("network proxy unavailable to the sandbox: %w", err)
		}
		p.Network, p.Proxy = sandbox.NetworkProxy, sockets
	}
	return p, nil
}

// workspaceWriteRoots are the directories workspace-write lets a thread
// in cwd write ([sandbox_workspace_write] writable_roots, cwd, /tmp and
// tmpdir unless excluded) and the paths inside them that stay read-only
// (each root's .git, the server's home): what a command's sandbox enforces
// and what a patch may write without asking, one computation for both.
// extraRoots are the roots a turn's sandboxPolicy added (settings.extraRoots).
func (m *Manager) workspaceWriteRoots(cwd, tmpdir, extraRoots string) (roots, protected []string) {
	sc := m.cfg.SandboxConfig
	configured := sc.WritableRoots
	if extraRoots != "" {
		configured = append(slices.Clone(configured), strings.Split(extraRoots, "\x00")...)
	}
	roots = sandbox.WorkspaceRoots(cwd, configured, sc.ExcludeSlashTmp, sc.ExcludeTmpdirEnvVar, tmpdir)
	return roots, sandbox.ProtectedPaths(roots, m.cfg.Home)
}

// proxySockets opens the proxy's Unix socket entry points on first use.
func (m *Manager) proxySockets() (*sandbox.ProxySockets, error) {
	s := m.sandbox
	s.socketsOnce.Do(func() {
		dir := os.TempDir()
		if m.cfg.Home != "" {
			dir = filepath.Join(m.cfg.Home, "run")
		}
		u, err := m.net.ListenUnix(dir)
		if err != nil {
			s.socketsErr = err
			return
		}
		s.sockets = &sandbox.ProxySockets{
			HTTP: u.HTTP, SOCKS: u.SOCKS,
			HTTPPort: m.net.HTTPAddr().Port(), SOCKSPort: m.net.SOCKSAddr().Port(),
		}
	})
	return s.sockets, s.socketsErr
}

// runsUnsandboxed reports whether the thread accepted line to run without
// the sandbox for the session.
func (m *Manager) runsUnsandboxed(threadID uuid.UUID, line string) bool {
	m.sandbox.mu.Lock()
	defer m.sandbox.mu.Unlock()
	return m.sandbox.unsandboxed[threadID][line]
}

func (m *Manager) allowUnsandboxed(threadID uuid.UUID, line string) {
	m.sandbox.mu.Lock()
	defer m.sandbox.mu.Unlock()
	if m.sandbox.unsandboxed[threadID] == nil {
		m.sandbox.unsandboxed[threadID] = make(map[string]bool)
	}
	m.sandbox.unsandboxed[threadID][line] = true
}

// process is a started command's main process: its pid, which is its
// process group's id, and how to wait for its exit status (-1 if a signal
// ended it). wait's error is set only when it could not wait (a non-zero
// exit is not an error).
type process struct {
	pid  int
	wait func() (int, error)
	// keepsGroup is set for a command on a spare sandbox helper: the
	// group is the helper's, which kills the command's leftovers itself
	// and serves the next command.
	keepsGroup bool
}

// startCommand starts cmd, under p when p is not nil: on a spare helper
// when spares has one ready, otherwise on a helper of its own (Wrap).
func startCommand(cmd *exec.Cmd, p *sandbox.Policy, spares *sandbox.Spares) (process, error) {
	if p != nil && spares != nil {
		warm, err := spares.Start(cmd, *p)
		if err != nil {
			return process{}, err
		}
		if warm != nil {
			return process{pid: warm.Pid, wait: warm.Wait, keepsGroup: true}, nil
		}
	}
	if p != nil {
		if err := sandbox.Wrap(cmd, *p); err != nil {
			return process{}, err
		}
	}
	if err := cmd.Start(); err != nil {
		return process{}, err
	}
	return process{pid: cmd.Process.Pid, wait: func() (int, error) {
		err := cmd.Wait()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			err = nil
		}
		if cmd.ProcessState == nil {
			return -1, err
		}
		return cmd.ProcessState.ExitCode(), err
	}}, nil
}

// denialMarkers are what a command prints when the sandbox refused it
// something: a write (Landlock, a read-only mount), a socket or syscall
// (seccomp), a connection (the network namespace).
var denialMarkers = []string{
	"Operation not permitted", "Permission denied", "Read-only file system",
	"Connection refused", "Network is unreachable", "connection refused", "network is unreachable",
	// curl's words for a refused or unreachable connection (exit 7), as
	// `curl --noproxy '*'` gets it in the sandbox.
	"Couldn't connect to server",
}

// looksLikeSandboxDenial reports whether a sandboxed command's failure
// looks like the sandbox's doing: a non-zero exit with one of the
// denial messages in its output, or death by SIGSYS.
func looksLikeSandboxDenial(res ProcessResult) bool {
	if res.Err != nil || res.Interrupted || res.ExitCode == 0 {
		return false
	}
	if sandbox.DeniedBySeccomp(int(res.ExitCode)) {
		return true
	}
	for _, m := range denialMarkers {
		if strings.Contains(res.Output, m) {
			return true
		}
	}
	return false
}

func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// retryReason is the reason of the approval that offers to rerun a
// command without the sandbox (Codex's wording).
const retryReason = "command failed; retry without sandbox?"

// retryUnsandboxed asks the client, under untrusted and on-request,
// whether a sandboxed command that failed like a sandbox denial should
// run again without the sandbox: accept reruns it once, acceptForSession
// also runs the same command line unsandboxed for the rest of the
// session, decline keeps the failure, cancel also interrupts the turn.
// Under never the failure stands without a prompt.
func (tu *turn) retryUnsandboxed(ctx context.Context, item *protocol.CommandExecutionItem, line string) bool {
	t, m := tu.t, tu.t.m
	if tu.settings.policy != protocol.ApprovalUntrusted && tu.settings.policy != protocol.ApprovalOnRequest {
		return false
	}
	reason := retryReason
	d, err := t.askCommand(ctx, protocol.CommandExecutionRequestApprovalParams{
		ThreadID: t.id.String(), TurnID: tu.id.String(), ItemID: item.ID, Kind: protocol.ApprovalKindCommand, StartedAtMs: m.nowMs(),
		Reason: &reason, Command: &item.Command, Cwd: &item.Cwd, CommandActions: item.CommandActions,
		AvailableDecisions: []protocol.CommandExecutionApprovalDecision{
			protocol.Accept(), protocol.AcceptForSession(), protocol.Decline(), protocol.Cancel(),
		},
	})
	if err != nil {
		return false
	}
	switch d.Kind {
	case protocol.DecisionAccept:
		return true
	case protocol.DecisionAcceptForSession:
		m.allowUnsandboxed(t.id, line)
		return true
	case protocol.DecisionCancel:
		t.interrupt(tu.id)
	}
	return false
}

// turnSandbox reads turn/start's sandboxPolicy: the mode it sets (nil
// when absent) and the writable roots it adds (NUL-joined, see
// settings.extraRoots). Its networkAccess is not a switch here: the
// network of a sandboxed command is the managed proxy's, whatever it says.
func turnSandbox(p *protocol.SandboxPolicy) (*protocol.SandboxMode, string, error) {
	if p == nil {
		return nil, "", nil
	}
	mode := protocol.SandboxWorkspaceWrite
	var roots []string
	switch {
	case p.ReadOnly != nil:
		mode = protocol.SandboxReadOnly
	case p.DangerFullAccess != nil, p.ExternalSandbox != nil:
		mode = protocol.SandboxDangerFullAccess
	case p.WorkspaceWrite != nil:
		for _, r := range p.WorkspaceWrite.WritableRoots {
			if !filepath.IsAbs(r) {
				return nil, "", invalidParams("sandboxPolicy.writableRoots: %q is not an absolute path", r)
			}
			roots = append(roots, filepath.Clean(r))
		}
	default:
		return nil, "", invalidParams("sandboxPolicy has no type")
	}
	return &mode, strings.Join(roots, "\x00"), nil
}

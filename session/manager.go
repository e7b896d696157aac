package session

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"app-server/model"
	"app-server/netapproval"
	"app-server/protocol"
	"app-server/sandbox"
	"app-server/session/rollout"
)

// Config is what the server configuration says about threads and turns.
type Config struct {
	// Home is the server's home directory.
	Home string
	// Cwd is the working directory of threads that do not name one.
	Cwd string
	// ApprovalPolicy and Sandbox apply to threads that do not choose.
	// Required, as is Shell.
	ApprovalPolicy protocol.AskForApproval
	Sandbox        protocol.SandboxMode
	// Shell runs a text input: the command line is appended as one
	// argument. Required.
	Shell []string
	// Version is reported as the threads' cliVersion.
	Version string
	// Network is what network/settings/read reports: the configuration
	// Options.Network was built with (Enabled false when it is nil). Mode
	// and ApprovalTimeoutDecision are required.
	Network protocol.NetworkSettingsReadResponse
	// Model names the model and its providers (Codex's keys). With no
	// model configured, threads run the shell agent unless they ask for a
	// model.
	Model model.Config
	// SandboxConfig is the rest of the sandbox configuration.
	SandboxConfig SandboxConfig
	// EnvPolicy decides which of the server's environment variables the
	// commands it runs see ([shell_environment_policy]); the zero value
	// passes them all.
	EnvPolicy EnvPolicy
}

// Options are a Manager's collaborators.
type Options struct {
	Config Config
	// Client receives notifications and approval requests.
	Client Client
	// Store persists threads. If nil, nothing is written (every thread is
	// ephemeral).
	Store *rollout.Store
	// Rules holds the persisted command rules. If nil, rules are kept in
	// memory for the life of the Manager.
	Rules *CommandRules
	// Network brokers the commands' network access. If nil, commands get
	// no proxy (network.enabled = false).
	Network *netapproval.Manager
	// SandboxSupport returns what this machine enforces (sandbox.Probe,
	// which the server starts early). If nil, the Manager probes on first
	// use; the binary must then call sandbox.RunHelper in main (TestMain).
	SandboxSupport func() sandbox.Support
	// Logger receives logs. If nil, logs are discarded.
	Logger *slog.Logger
	// Now returns the current time. If nil, time.Now is used.
	Now func() time.Time
}

// Manager owns the loaded threads of one connection and serves the thread,
// turn and command methods. Its methods are called from rpc handlers; none
// waits on the client: turns run in goroutines the Manager owns.
type Manager struct {
	cfg    Config
	client Client
	store  *rollout.Store
	rules  *CommandRules
	net    *netapproval.Manager
	log    *slog.Logger
	now    func() time.Time
	models modelClients
	// sandbox holds what the OS enforces and the sandbox's proxy sockets.
	sandbox *sandboxing

	// ctx is the parent of every turn and command context; cancelled by
	// Shutdown. Its Done is every command's ProcessSpec.Hurry.
	ctx    context.Context
	cancel context.CancelFunc
	work   sync.WaitGroup // turn and command goroutines

	mu      sync.Mutex            // guards threads and closed
	threads map[uuid.UUID]*thread // loaded threads by id
	closed  bool
}

// NewManager returns a Manager. It starts nothing.
func NewManager(opts Options) (*Manager, error) {
	cfg := opts.Config
	// The defaults of these are the server configuration's (config.toml);
	// they are not repeated here.
	if len(cfg.Shell) == 0 || cfg.ApprovalPolicy == "" || cfg.Sandbox == "" {
		return nil, errors.New("session: Config.Shell, ApprovalPolicy and Sandbox are required")
	}
	if cfg.Network.Mode == "" || cfg.Network.ApprovalTimeoutDecision == "" {
		return nil, errors.New("session: Config.Network.Mode and ApprovalTimeoutDecision are required")
	}
	if cfg.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		cfg.Cwd = wd
	}
	if opts.Client == nil {
		return nil, errors.New("session: Options.Client is required")
	}
	rules := opts.Rules
	if rules == nil {
		var err error
		if rules, err = OpenCommandRules(""); err != nil {
			return nil, err
		}
	}
	m := &Manager{
		cfg:     cfg,
		client:  opts.Client,
		store:   opts.Store,
		rules:   rules,
		net:     opts.Network,
		log:     opts.Logger,
		now:     opts.Now,
		sandbox: newSandboxing(opts.SandboxSupport),
		threads: make(map[uuid.UUID]*thread),
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Shutdown interrupts every running turn and command, resolves pending
// approvals as denied, waits for their goroutines (until ctx is done), and
// closes the threads' files. Later requests fail.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	threads := make([]*thread, 0, len(m.threads))
	for _, t := range m.threads {
		threads = append(threads, t)
	}
	m.mu.Unlock()

	m.cancel()
	if m.net != nil {
		m.net.InterruptAll()
	}
	done := make(chan struct{})
	go func() { m.work.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	m.sandbox.spares.Close()
	for _, t := range threads {
		t.unload()
	}
	return err
}

// goWork runs f in a goroutine the Manager waits for at Shutdown. It reports
// false when the Manager is shutting down.
func (m *Manager) goWork(f func()) bool {
	done, ok := m.enterWork()
	if ok {
		go func() {
			defer done()
			f()
		}()
	}
	return ok
}

// enterWork counts work that Shutdown waits for until done is called; ok
// is false (and there is nothing to call) when the Manager is shutting
// down.
func (m *Manager) enterWork() (done func(), ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, false
	}
	m.work.Add(1)
	return m.work.Done, true
}

// loaded returns the loaded thread whose id the client gave, or an error
// naming it.
func (m *Manager) loaded(threadID string) (*thread, error) {
	id, ok := parseID(threadID)
	m.mu.Lock()
	t := m.threads[id]
	m.mu.Unlock()
	if !ok || t == nil {
		return nil, invalidParams("thread not found or not loaded: %s", threadID)
	}
	return t, nil
}

// addThread registers a loaded thread; false if shutting down or present.
func (m *Manager) addThread(t *thread) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return protocol.Errorf(protocol.ErrRequestCancelled, "server is shutting down")
	}
	if _, ok := m.threads[t.id]; ok {
		return invalidParams("thread already loaded: %s", t.id)
	}
	m.threads[t.id] = t
	return nil
}

func (m *Manager) removeThread(id uuid.UUID) *thread {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.threads[id]
	delete(m.threads, id)
	return t
}

// loadedIDs returns the ids of the loaded threads in creation order: the
// order of UUIDv7 ids, and of their canonical strings.
func (m *Manager) loadedIDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.threads))
	for id := range m.threads {
		ids = append(ids, id.String())
	}
	slices.Sort(ids)
	return ids
}

// notify sends a notification; a failure only means the client is gone.
func (m *Manager) notify(method string, params any) {
	if err := m.client.Notify(method, params); err != nil {
		m.log.Debug("notification not sent", "method", method, "err", err)
	}
}

// nowMs is the current time in unix milliseconds.
func (m *Manager) nowMs() int64 { return m.now().UnixMilli() }

// requestCwd is the working directory a request names, checked, or "" when
// it names none.
func requestCwd(cwd *string) (string, error) {
	if cwd == nil {
		return "", nil
	}
	return resolveCwd(*cwd)
}

// resolveCwd checks a client-given working directory: absolute, existing, a
// directory. It returns the cleaned path.
func resolveCwd(cwd string) (string, error) {
	if !filepath.IsAbs(cwd) {
		return "", invalidParams("cwd must be an absolute path: %q", cwd)
	}
	st, err := os.Stat(cwd)
	if err != nil {
		return "", invalidParams("cwd does not exist: %s", cwd)
	}
	if !st.IsDir() {
		return "", invalidParams("cwd is not a directory: %s", cwd)
	}
	return filepath.Clean(cwd), nil
}

func invalidParams(format string, args ...any) *protocol.Error {
	return protocol.Errorf(protocol.ErrInvalidParams, format, args...)
}

package netapproval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Notifier receives what the server forwards to the client. Methods are
// called without netapproval locks held, on the goroutine that caused the
// event (a proxied request, a prompt settling, Revoke). They must not block
// on the client: queue the notification and return.
type Notifier interface {
	// GrantsUpdated carries the thread's full grant list after a change
	// (network/grants/updated). Hit counts alone do not trigger it.
	GrantsUpdated(threadID string, grants []Grant)
	// Warning carries a user-visible warning for the thread, e.g. a
	// refused amendment.
	Warning(threadID string, message string)
}

// Options configures a Manager.
type Options struct {
	Config Config
	// Rules is the persisted rules file; nil keeps rules in memory. One
	// Manager per Rules (the Manager subscribes to its host-rule changes).
	Rules *Rules
	// Resolver optionally specifies the DNS resolver. If nil,
	// net.DefaultResolver is used.
	Resolver Resolver
	// Dialer optionally specifies how upstream TCP connections are opened;
	// it is only ever given vetted IP addresses. If nil, a net.Dialer with a
	// 30 s timeout is used.
	Dialer Dialer
	// Logger optionally specifies the logger. If nil, logs are discarded.
	Logger *slog.Logger
	// Notifier optionally receives grant changes and warnings.
	Notifier Notifier
}

// Manager owns the policy, the rules, the per-thread approval services and
// the proxy listeners. Every goroutine it starts stops in Close.
type Manager struct {
	policy   *policy
	rules    *Rules
	dialer   Dialer
	log      *slog.Logger
	notifier Notifier

	// ctx is the parent of thread and connection contexts; cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts the accept loops and every connection handler; Close waits.
	wg sync.WaitGroup
	// transport forwards plain HTTP requests; its DialContext vets the
	// destination again at dial time.
	transport *http.Transport
	// adm bounds the connections that have not authenticated yet.
	adm *admission

	mu      sync.Mutex // guards the fields below
	started bool
	// startOnUse: the first Attach or ListenUnix starts the Manager
	// (StartOnFirstUse).
	startOnUse bool
	closed     bool
	threads    map[string]*Thread
	creds      map[string]*Attachment // credential user -> attachment
	httpSrv    *http.Server
	handoff    *handoffListener // the HTTP server's side of the HTTP listener
	socksLn    net.Listener
	httpAddr   netip.AddrPort
	socksAddr  netip.AddrPort
	// udpPorts counts the open UDP sockets of SOCKS5 associations (relay
	// and upstream) by port: a datagram sent to one would loop back into
	// the proxy.
	udpPorts map[uint16]int
}

// Errors returned by Manager methods.
var (
	ErrClosed        = errors.New("netapproval: manager closed")
	ErrThreadExists  = errors.New("netapproval: thread already open")
	ErrUnknownThread = errors.New("netapproval: thread not open")
)

// NewManager validates the configuration and builds a Manager. Call Start
// to open the listeners.
func NewManager(opts Options) (*Manager, error) {
	rules := opts.Rules
	if rules == nil {
		var err error
		if rules, err = OpenRules(""); err != nil {
			return nil, err
		}
	}
	pol, err := newPolicy(opts.Config, rules, opts.Resolver)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		policy: pol, rules: rules, dialer: opts.Dialer, log: opts.Logger, notifier: opts.Notifier,
		threads: make(map[string]*Thread), creds: make(map[string]*Attachment),
		adm: newAdmission(openFileLimit()),
	}
	if m.dialer == nil {
		m.dialer = &net.Dialer{Timeout: 30 * time.Second}
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.transport = &http.Transport{
		Proxy:                 nil, // never chain to another proxy from the environment
		DialContext:           m.dialForTransport,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 0,
	}
	rules.onHostChange = m.hostRulesChanged
	return m, nil
}

// Start opens the HTTP and SOCKS5 listeners on 127.0.0.1 ephemeral ports
// and starts serving.
func (m *Manager) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.started {
		return errors.New("netapproval: manager already started")
	}
	return m.startLocked()
}

// StartOnFirstUse makes the first Attach or ListenUnix start the Manager
// instead of an explicit Start, so that a server whose clients never run
// a command never opens the listeners: serving them (the HTTP server, its
// front and the SOCKS5 loop) is 0.6 MiB of the server's resident memory
// at startup (docs/BENCHMARKS.md). Nothing sees the proxy before one of
// those: its URLs are only handed out in an Attachment's environment, its
// Unix sockets by ListenUnix.
func (m *Manager) StartOnFirstUse() {
	m.mu.Lock()
	m.startOnUse = true
	m.mu.Unlock()
}

// startIfDeferredLocked starts a Manager that waits for its first use
// (StartOnFirstUse), with m.mu held.
func (m *Manager) startIfDeferredLocked() error {
	if !m.startOnUse || m.started || m.closed {
		return nil
	}
	return m.startLocked()
}

// startLocked is Start with m.mu held.
func (m *Manager) startLocked() error {
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("netapproval: http proxy listener: %w", err)
	}
	socksLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("netapproval: socks5 proxy listener: %w", err)
	}
	m.started = true
	m.httpAddr = httpLn.Addr().(*net.TCPAddr).AddrPort()
	m.socksAddr = socksLn.Addr().(*net.TCPAddr).AddrPort()
	m.socksLn = socksLn
	m.httpSrv = &http.Server{
		Handler:           &httpProxy{m: m},
		ReadHeaderTimeout: headTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return m.ctx },
		ConnContext:       func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ConnState:         trackConn,
	}
	m.handoff = newHandoffListener(httpLn)
	m.wg.Add(3)
	go m.serveHTTPFront(httpLn, m.handoff)
	go m.serveHTTP(m.httpSrv, m.handoff)
	go m.serveSOCKS(socksLn)
	m.log.Info("network proxy listening", "http", m.httpAddr.String(), "socks5", m.socksAddr.String())
	return nil
}

// serveHTTP runs the HTTP server on the connections the front hands over
// (see front.go) until Close.
func (m *Manager) serveHTTP(srv *http.Server, ln net.Listener) {
	defer m.wg.Done()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		m.log.Error("http proxy stopped", "err", err)
	}
}

// HTTPAddr is the HTTP proxy's address (zero before Start).
func (m *Manager) HTTPAddr() netip.AddrPort {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.httpAddr
}

// SOCKSAddr is the SOCKS5 proxy's address (zero before Start).
func (m *Manager) SOCKSAddr() netip.AddrPort {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.socksAddr
}

// Close stops the listeners, resolves every pending prompt as a denial,
// closes every proxied connection and waits for every goroutine the
// Manager started. Idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	threads := make([]*Thread, 0, len(m.threads))
	for _, t := range m.threads {
		threads = append(threads, t)
	}
	srv, socksLn, handoff := m.httpSrv, m.socksLn, m.handoff
	m.mu.Unlock()

	var err error
	if socksLn != nil {
		err = errors.Join(err, ignoreClosed(socksLn.Close()))
	}
	if srv != nil {
		err = errors.Join(err, srv.Close()) // closes handoff, which closes the listener
	}
	if handoff != nil {
		err = errors.Join(err, handoff.Close())
	}
	for _, t := range threads {
		t.Close()
	}
	m.cancel()
	m.wg.Wait()
	m.transport.CloseIdleConnections()
	return err
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// enter registers a connection handler; it reports false once Close has
// begun, so Close's Wait never races with a new Add.
func (m *Manager) enter() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.wg.Add(1)
	return true
}

func (m *Manager) leave() { m.wg.Done() }

// OpenThread starts the approval service of a thread. p asks the user; nil
// means every allowlist miss is denied without a prompt.
func (m *Manager) OpenThread(id string, p Prompter) (*Thread, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if _, ok := m.threads[id]; ok {
		return nil, fmt.Errorf("%w: %s", ErrThreadExists, id)
	}
	t := newThread(m, id, p)
	m.threads[id] = t
	return t, nil
}

func (m *Manager) forgetThread(t *Thread) {
	m.mu.Lock()
	if m.threads[t.id] == t {
		delete(m.threads, t.id)
	}
	m.mu.Unlock()
}

// Attach issues a credential for one command execution in an open thread.
// Close the Attachment when the command ends.
func (m *Manager) Attach(info ExecInfo) (*Attachment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	t, ok := m.threads[info.ThreadID]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownThread, info.ThreadID)
	}
	if err := m.startIfDeferredLocked(); err != nil {
		return nil, err
	}
	a := newAttachment(m, t, info)
	t.mu.Lock()
	closed := t.closed
	if !closed {
		t.attachments[a] = struct{}{}
	}
	t.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("%w: %s", ErrUnknownThread, info.ThreadID)
	}
	m.creds[a.user] = a
	return a, nil
}

func (m *Manager) forgetCredential(a *Attachment) {
	m.mu.Lock()
	if m.creds[a.user] == a {
		delete(m.creds, a.user)
	}
	m.mu.Unlock()
}

// authenticate returns the attachment whose credential is user:token, or
// nil.
func (m *Manager) authenticate(user, token string) *Attachment {
	m.mu.Lock()
	a := m.creds[user]
	m.mu.Unlock()
	if a == nil || !a.matches(token) {
		return nil
	}
	return a
}

// warn sends a warning for a thread to the Notifier.
func (m *Manager) warn(threadID, msg string) {
	if m.notifier != nil {
		m.notifier.Warning(threadID, msg)
	}
}

// hostRulesChanged tells every thread's client that the persisted part of
// its grant list changed.
func (m *Manager) hostRulesChanged() {
	for _, t := range m.threadList() {
		t.notifyGrants()
	}
}

func (m *Manager) threadList() []*Thread {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Thread, 0, len(m.threads))
	for _, t := range m.threads {
		out = append(out, t)
	}
	return out
}

// closeConns closes the connections every thread opened under ref (a
// persisted rule being revoked) and resets its counters.
func (m *Manager) closeConns(ref grantRef) {
	for _, t := range m.threadList() {
		t.closeRef(ref)
	}
}

// InterruptAll resolves the pending prompts of every thread as denials,
// for when the client disconnects.
func (m *Manager) InterruptAll() {
	for _, t := range m.threadList() {
		t.Interrupt()
	}
}

// dialTCP connects to k after vetting its addresses again (DNS rebinding):
// a *Denial error means the policy refused the address.
func (m *Manager) dialTCP(ctx context.Context, k Key) (net.Conn, error) {
	addrs, err := m.policy.dialAddrs(ctx, k.Host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, a := range addrs {
		if m.isSelf(netip.AddrPortFrom(a.Unmap(), k.Port)) {
			// A proxied request to the proxy itself would loop (and carry
			// the credential of another command through).
			return nil, &Denial{Reason: ReasonNotAllowedLocal, Source: SourceBaselinePolicy, Message: "The proxy cannot connect to itself."}
		}
		c, err := m.dialer.DialContext(ctx, "tcp", net.JoinHostPort(a.String(), strconv.Itoa(int(k.Port))))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// isSelf reports whether a connection to ap would land on one of the
// proxy's own listeners: their port on a loopback or unspecified address
// (0.0.0.0 and [::] reach the local machine), IPv4-mapped forms included.
func (m *Manager) isSelf(ap netip.AddrPort) bool {
	a := ap.Addr().Unmap()
	if !a.IsLoopback() && !a.IsUnspecified() {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started && (ap.Port() == m.httpAddr.Port() || ap.Port() == m.socksAddr.Port())
}

// isSelfUDP is isSelf for a datagram: it lands on the proxy when it goes
// to the port of one of the associations' UDP sockets (any association's:
// one command's datagrams must not reach another's relay).
func (m *Manager) isSelfUDP(ap netip.AddrPort) bool {
	a := ap.Addr().Unmap()
	if !a.IsLoopback() && !a.IsUnspecified() {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.udpPorts[ap.Port()] > 0
}

// holdUDPPorts registers the ports of an association's sockets as the
// proxy's own until the returned function is called.
func (m *Manager) holdUDPPorts(conns ...*net.UDPConn) (release func()) {
	var ports []uint16
	for _, c := range conns {
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.udpPorts == nil {
		m.udpPorts = make(map[uint16]int)
	}
	for _, p := range ports {
		m.udpPorts[p]++
	}
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, p := range ports {
			if m.udpPorts[p]--; m.udpPorts[p] == 0 {
				delete(m.udpPorts, p)
			}
		}
	}
}

// closerFunc adapts a function to io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }

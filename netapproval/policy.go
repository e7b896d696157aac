package netapproval

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Resolver looks up the addresses of a name. *net.Resolver satisfies it.
// LookupNetIP must honour ctx: the policy bounds every lookup (2 s) and
// treats an error or an empty answer as a denial (fail closed).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer opens upstream TCP connections. *net.Dialer satisfies it. The
// address it receives is always an IP literal and port that the policy has
// vetted, never a name, so a name cannot re-resolve to a private address
// between the check and the connection (DNS rebinding). DialContext must
// return promptly once ctx is done (Close, or the requester went away).
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// lookupTimeout bounds each policy lookup.
const lookupTimeout = 2 * time.Second

// Config is the network section of the server configuration.
type Config struct {
	// Mode is full (zero value) or limited.
	Mode Mode
	// AllowedDomains are host patterns allowed without a prompt:
	// "example.com" (exact), "*.example.com" (subdomains only),
	// "**.example.com" (apex and subdomains), "*" (everything), and
	// "region*.cdn.example" ('*' within one label). Only an exact IP
	// literal entry lifts the local/private protection, for that address.
	AllowedDomains []string
	// DeniedDomains are host patterns denied without a prompt; deny wins
	// over every allow. "*" is rejected.
	DeniedDomains []string
	// AllowLocalBinding turns the local/private protection off.
	AllowLocalBinding bool
	// ApprovalTimeout bounds each prompt; zero waits for the client forever.
	ApprovalTimeout time.Duration
	// TimeoutDefault is applied when a prompt times out: AnswerDecline (also
	// the meaning of the zero value) or AnswerAllowOnce.
	TimeoutDefault AnswerKind
}

// policy is the thread-independent part of an evaluation: config lists,
// persisted rules, mode and local protection. It is immutable after
// construction except through rules, which publishes snapshots.
type policy struct {
	mode           Mode
	allow, deny    patternSet
	allowLocal     bool
	timeout        time.Duration
	timeoutDefault AnswerKind
	rules          *Rules
	resolver       Resolver
}

// Validate reports the first problem of the configuration: a domain
// pattern that does not parse ("allowed_domains: ..."), "*" in the deny
// list, an unknown mode or timeout default, a negative timeout. NewManager
// refuses a configuration Validate refuses; Validate opens nothing.
func (cfg Config) Validate() error {
	_, _, err := cfg.compile()
	return err
}

// compile returns the compiled allow and deny lists of a valid
// configuration.
func (cfg Config) compile() (allow, deny patternSet, err error) {
	allow, err = compilePatterns("allowed_domains", allowList, cfg.AllowedDomains)
	if err != nil {
		return allow, deny, err
	}
	deny, err = compilePatterns("denied_domains", denyList, cfg.DeniedDomains)
	if err != nil {
		return allow, deny, err
	}
	if cfg.Mode != ModeFull && cfg.Mode != ModeLimited {
		return allow, deny, fmt.Errorf("invalid mode %v", cfg.Mode)
	}
	switch cfg.TimeoutDefault {
	case 0, AnswerDecline, AnswerAllowOnce:
	default:
		return allow, deny, fmt.Errorf("approval_timeout_default %v is not supported (want decline or accept)", cfg.TimeoutDefault)
	}
	if cfg.ApprovalTimeout < 0 {
		return allow, deny, errors.New("negative approval timeout")
	}
	return allow, deny, nil
}

func newPolicy(cfg Config, rules *Rules, res Resolver) (*policy, error) {
	allow, denyp, err := cfg.compile()
	if err != nil {
		return nil, fmt.Errorf("netapproval: %w", err)
	}
	td := cfg.TimeoutDefault
	if td == 0 {
		td = AnswerDecline
	}
	if res == nil {
		res = net.DefaultResolver
	}
	return &policy{
		mode: cfg.Mode, allow: allow, deny: denyp, allowLocal: cfg.AllowLocalBinding,
		timeout: cfg.ApprovalTimeout, timeoutDefault: td, rules: rules, resolver: res,
	}, nil
}

// Request is one destination a command asked the proxy for.
type Request struct {
	Key Key
	// Method is the HTTP method of a plain HTTP request (limited mode
	// checks it); empty for other protocols.
	Method string
}

// grantRef names what allowed (or denied) a request, so hits and open
// connections are counted per grant and revoking a grant finds the
// connections it allowed. The zero grantRef is "not a grant" (config lists,
// allow once).
type grantRef struct {
	scope  Scope
	key    Key    // ScopeSession: the key
	host   string // ScopePersistent: the rule's host pattern
	action Action
}

// denied checks the config deny list and persisted deny rules.
func (p *policy) denied(host string) (grantRef, bool) {
	if _, ok := p.deny.match(host); ok {
		return grantRef{}, true
	}
	if pat, ok := p.rules.cur.Load().deny.match(host); ok {
		return grantRef{scope: ScopePersistent, host: pat.text, action: ActionDeny}, true
	}
	return grantRef{}, false
}

// allowed checks the config allow list and persisted allow rules.
func (p *policy) allowed(host string) (grantRef, bool) {
	if _, ok := p.allow.match(host); ok {
		return grantRef{}, true
	}
	if pat, ok := p.rules.cur.Load().allow.match(host); ok {
		return grantRef{scope: ScopePersistent, host: pat.text, action: ActionAllow}, true
	}
	return grantRef{}, false
}

// localOK reports whether local/private protection is lifted for host:
// globally by AllowLocalBinding, or for an IP literal listed exactly in
// the allow list or the persisted allow rules. A name never lifts it,
// whatever rule allowed the name: what a name resolves to is not trusted
// (it can be made to resolve to 127.0.0.1 at any time, DNS rebinding), so
// every address it resolves to is checked, at the prompt and at dial time.
func (p *policy) localOK(host string) bool {
	if p.allowLocal {
		return true
	}
	if _, ok := hostAddr(host); !ok {
		return false
	}
	return p.allow.hasExact(host) || p.rules.cur.Load().allow.hasExact(host)
}

// checkLocal denies a local/private destination unless localOK. Names are
// resolved; any non-public address, a failed lookup or an empty answer
// denies.
func (p *policy) checkLocal(ctx context.Context, host string) *Denial {
	if p.localOK(host) {
		return nil
	}
	_, err := p.publicAddrs(ctx, host)
	var d *Denial
	if errors.As(err, &d) {
		return d
	}
	if err != nil {
		return &Denial{Reason: ReasonNotAllowedLocal, Source: SourceBaselinePolicy, Message: err.Error()}
	}
	return nil
}

// publicAddrs resolves host (an IP literal resolves to itself) and fails
// with a *Denial if any address is non-public or the lookup fails.
func (p *policy) publicAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if isLocalName(host) {
		d := deny(ReasonNotAllowedLocal, SourceBaselinePolicy)
		d.Detail = host + " is a local name"
		return nil, d
	}
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		return nil, &Denial{Reason: ReasonNotAllowedLocal, Source: SourceBaselinePolicy,
			Message: fmt.Sprintf("Could not resolve %s to check it is not a local/private address.", host),
			Detail:  fmt.Sprintf("%s did not resolve here, so it cannot be checked to be public", host)}
	}
	for _, a := range addrs {
		if IsNonPublic(a) {
			d := deny(ReasonNotAllowedLocal, SourceBaselinePolicy)
			if lit, ok := hostAddr(host); ok && lit == a {
				d.Detail = fmt.Sprintf("%s is %s address", host, addrKind(a))
			} else {
				d.Detail = fmt.Sprintf("%s resolved to %s, %s address", host, a, addrKind(a))
			}
			return nil, d
		}
	}
	return addrs, nil
}

// resolve returns the addresses of host with the lookup bounded by
// lookupTimeout. An empty answer is an error.
func (p *policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, ok := hostAddr(host); ok {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := p.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("netapproval: no addresses for %s", host)
	}
	return addrs, nil
}

// dialAddrs returns the addresses a connection to host may use, checked
// again at dial time: a name that now resolves to a private address is
// refused with a *Denial even though it passed the first check.
func (p *policy) dialAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if p.localOK(host) {
		return p.resolve(ctx, host)
	}
	return p.publicAddrs(ctx, host)
}

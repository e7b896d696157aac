package netapproval

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// policyWorld is a Manager without listeners, one thread whose prompter
// counts prompts and allows once, and one attachment.
type policyWorld struct {
	m       *Manager
	t       *Thread
	a       *Attachment
	prompts atomic.Int32
}

func newPolicyWorld(t *testing.T, cfg Config, res Resolver, promptsAllowed bool) *policyWorld {
	t.Helper()
	w := &policyWorld{}
	m, err := NewManager(Options{Config: cfg, Resolver: res, Dialer: refusingDialer{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	w.m = m
	w.t, err = m.OpenThread("thread-1", PrompterFunc(func(ctx context.Context, req PromptRequest) (Answer, error) {
		w.prompts.Add(1)
		return Answer{Kind: AnswerAllowOnce}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	w.a, err = m.Attach(ExecInfo{ThreadID: "thread-1", TurnID: "turn-1", CommandID: "cmd-1", PromptsAllowed: promptsAllowed})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// refusingDialer fails the test if anything dials: policy tests never
// touch the network.
type refusingDialer struct{ t *testing.T }

func (d refusingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.t.Errorf("unexpected dial %s %s", network, addr)
	return nil, errors.New("dial refused by test")
}

var testNames = map[string]string{
	"allowed.test":       "93.184.216.34",
	"x.wild.test":        "93.184.216.35",
	"wp.wild.test":       "192.168.1.1",
	"blocked.test":       "93.184.216.36",
	"evil.test":          "93.184.216.37",
	"a.evil.test":        "93.184.216.38",
	"both.test":          "93.184.216.39",
	"public.test":        "8.8.4.4",
	"private.test":       "10.1.1.1",
	"loop.test":          "127.0.0.1",
	"local.allowed.test": "127.0.0.1",
	"mapped.test":        "::ffff:127.0.0.1",
}

type decideCase struct {
	name       string
	key        Key
	method     string
	wantAllow  bool
	wantReason Reason
	wantSource Source
	wantPrompt bool
}

func runDecideCases(t *testing.T, cfg Config, promptsAllowed bool, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newPolicyWorld(t, cfg, staticResolver(testNames), promptsAllowed)
			method := tc.method
			if method == "" && tc.key.Protocol == ProtocolHTTP {
				method = "GET"
			}
			v := w.t.check(t.Context(), w.a, Request{Key: tc.key, Method: method})
			if v.allow != tc.wantAllow {
				t.Fatalf("allow = %v (denial %v), want %v", v.allow, v.denial, tc.wantAllow)
			}
			if !tc.wantAllow && (v.denial.Reason != tc.wantReason || v.denial.Source != tc.wantSource) {
				t.Errorf("denial = %s/%s, want %s/%s", v.denial.Reason, v.denial.Source, tc.wantReason, tc.wantSource)
			}
			if got := w.prompts.Load() > 0; got != tc.wantPrompt {
				t.Errorf("prompted = %v, want %v", got, tc.wantPrompt)
			}
			if blocks := blocksOf(w.a); tc.wantAllow == (len(blocks) > 0) {
				t.Errorf("blocks = %+v, want a block iff denied", blocks)
			}
		})
	}
}

func httpKey(host string) Key { return Key{Host: host, Protocol: ProtocolHTTP, Port: 80} }

func TestDecideOrder(t *testing.T) {
	cfg := Config{
		AllowedDomains: []string{"allowed.test", "*.wild.test", "10.0.0.5", "local.allowed.test", "both.test"},
		DeniedDomains:  []string{"blocked.test", "**.evil.test", "both.test"},
	}
	runDecideCases(t, cfg, true, []decideCase{
		{name: "allowlisted", key: httpKey("allowed.test"), wantAllow: true},
		{name: "wildcard allowlisted", key: httpKey("x.wild.test"), wantAllow: true},
		{name: "denylisted", key: httpKey("blocked.test"), wantReason: ReasonDenied, wantSource: SourceBaselinePolicy},
		{name: "denylisted apex", key: httpKey("evil.test"), wantReason: ReasonDenied, wantSource: SourceBaselinePolicy},
		{name: "denylisted sub", key: httpKey("a.evil.test"), wantReason: ReasonDenied, wantSource: SourceBaselinePolicy},
		{name: "deny wins over allow", key: httpKey("both.test"), wantReason: ReasonDenied, wantSource: SourceBaselinePolicy},
		{name: "miss prompts", key: httpKey("public.test"), wantAllow: true, wantPrompt: true},
		{name: "name to private", key: httpKey("private.test"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "name to loopback", key: httpKey("loop.test"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "name to mapped loopback", key: httpKey("mapped.test"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "localhost", key: httpKey("localhost"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "loopback literal", key: httpKey("127.0.0.1"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "ipv6 loopback literal", key: httpKey("::1"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "private literal exact allowlisted", key: httpKey("10.0.0.5"), wantAllow: true},
		{name: "local name exact allowlisted", key: httpKey("local.allowed.test"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "wildcard never allows local", key: httpKey("wp.wild.test"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "dns failure denies", key: httpKey("nxdomain.test"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
	})
}

func TestDecideStarNeverAllowsLocal(t *testing.T) {
	runDecideCases(t, Config{AllowedDomains: []string{"*"}}, true, []decideCase{
		{name: "public", key: httpKey("public.test"), wantAllow: true},
		{name: "loopback literal", key: httpKey("127.0.0.1"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
		{name: "loopback name", key: httpKey("loop.test"), wantReason: ReasonNotAllowedLocal, wantSource: SourceBaselinePolicy},
	})
}

func TestDecideAllowLocalBinding(t *testing.T) {
	runDecideCases(t, Config{AllowLocalBinding: true}, true, []decideCase{
		{name: "loopback prompts", key: httpKey("127.0.0.1"), wantAllow: true, wantPrompt: true},
		{name: "dns failure still asks", key: httpKey("nxdomain.test"), wantAllow: true, wantPrompt: true},
	})
}

func TestDecideLimitedMode(t *testing.T) {
	cfg := Config{Mode: ModeLimited, AllowedDomains: []string{"allowed.test"}}
	runDecideCases(t, cfg, true, []decideCase{
		{name: "GET", key: httpKey("allowed.test"), method: "GET", wantAllow: true},
		{name: "HEAD", key: httpKey("allowed.test"), method: "HEAD", wantAllow: true},
		{name: "OPTIONS", key: httpKey("allowed.test"), method: "OPTIONS", wantAllow: true},
		{name: "POST", key: httpKey("allowed.test"), method: "POST", wantReason: ReasonMethodNotAllowed, wantSource: SourceModeGuard},
		{name: "CONNECT", key: Key{Host: "allowed.test", Protocol: ProtocolHTTPS, Port: 443}, method: "CONNECT", wantReason: ReasonMethodNotAllowed, wantSource: SourceModeGuard},
		{name: "SOCKS", key: Key{Host: "allowed.test", Protocol: ProtocolSOCKS5TCP, Port: 443}, wantReason: ReasonMethodNotAllowed, wantSource: SourceModeGuard},
		{name: "miss is not prompted", key: Key{Host: "public.test", Protocol: ProtocolSOCKS5UDP, Port: 53}, wantReason: ReasonMethodNotAllowed, wantSource: SourceModeGuard},
	})
}

func TestDecidePromptsNotAllowed(t *testing.T) {
	runDecideCases(t, Config{AllowedDomains: []string{"allowed.test"}}, false, []decideCase{
		{name: "miss denied without prompt", key: httpKey("public.test"), wantReason: ReasonNotAllowed, wantSource: SourceBaselinePolicy},
		{name: "allowlisted still allowed", key: httpKey("allowed.test"), wantAllow: true},
	})
}

func TestDNSLookupTimeoutDenies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := resolverFunc(func(ctx context.Context, _, _ string) ([]netip.Addr, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		w := newPolicyWorld(t, Config{AllowedDomains: []string{"*"}}, hang, true)
		v := w.t.check(t.Context(), w.a, Request{Key: httpKey("slow.test"), Method: "GET"})
		if v.allow || v.denial.Reason != ReasonNotAllowedLocal {
			t.Fatalf("verdict = %+v, want not_allowed_local", v)
		}
	})
}

func TestRebindingRefusedAtDial(t *testing.T) {
	var calls atomic.Int32
	rebinding := resolverFunc(func(ctx context.Context, _, host string) ([]netip.Addr, error) {
		if calls.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("8.8.8.8")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	})
	// A wildcard entry: only exact entries lift local protection.
	w := newPolicyWorld(t, Config{AllowedDomains: []string{"**.rebind.test"}}, rebinding, true)
	k := Key{Host: "rebind.test", Protocol: ProtocolHTTPS, Port: 443}
	if v := w.t.check(t.Context(), w.a, Request{Key: k}); !v.allow {
		t.Fatalf("first check denied: %v", v.denial)
	}
	_, err := w.m.dialTCP(t.Context(), k) // refusingDialer fails the test on any dial
	var d *Denial
	if !errors.As(err, &d) || d.Reason != ReasonNotAllowedLocal {
		t.Fatalf("dial after rebinding: err = %v, want a not_allowed_local denial", err)
	}
	if calls.Load() != 2 {
		t.Errorf("resolver calls = %d, want 2 (check, then dial)", calls.Load())
	}
}

// Whatever rule allowed a name (an exact config entry, a persisted
// amendment), the name's addresses are checked at dial time: only an IP
// literal rule or AllowLocalBinding lifts the local/private protection.
func TestNameRulesNeverLiftLocalProtection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		amend bool
	}{
		{"config exact name", Config{AllowedDomains: []string{"rebind.test"}}, false},
		{"persisted amendment", Config{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			rebinding := resolverFunc(func(ctx context.Context, _, host string) ([]netip.Addr, error) {
				if calls.Add(1) == 1 {
					return []netip.Addr{netip.MustParseAddr("8.8.8.8")}, nil
				}
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			})
			w := newPolicyWorld(t, tc.cfg, rebinding, true)
			if tc.amend {
				if err := w.m.rules.AddHostRule("rebind.test", ActionAllow); err != nil {
					t.Fatal(err)
				}
			}
			k := Key{Host: "rebind.test", Protocol: ProtocolHTTPS, Port: 443}
			if v := w.t.check(t.Context(), w.a, Request{Key: k}); !v.allow {
				t.Fatalf("check while public: %v", v.denial)
			}
			_, err := w.m.dialTCP(t.Context(), k) // refusingDialer fails the test on any dial
			var d *Denial
			if !errors.As(err, &d) || d.Reason != ReasonNotAllowedLocal {
				t.Fatalf("dial after rebinding: err = %v, want a not_allowed_local denial", err)
			}
			// Once the name resolves locally, the check refuses it too.
			if v := w.t.check(t.Context(), w.a, Request{Key: k}); v.allow || v.denial.Reason != ReasonNotAllowedLocal {
				t.Fatalf("check after rebinding: %+v", v)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		{DeniedDomains: []string{"*"}},
		{AllowedDomains: []string{"bad host"}},
		{TimeoutDefault: AnswerAllowForSession},
		{Mode: Mode(9)},
		{ApprovalTimeout: -1},
	}
	for _, cfg := range bad {
		if m, err := NewManager(Options{Config: cfg}); err == nil {
			m.Close()
			t.Errorf("NewManager(%+v) succeeded", cfg)
		}
	}
}

// A local/private denial says what the host resolved to and why that is
// protected, so a user behind a VPN or corporate DNS can tell; the block
// carries it to the command's item.
func TestLocalDenialSaysWhatTheHostResolvedTo(t *testing.T) {
	names := map[string]string{"corp.test": "10.20.0.5", "doc.test": "203.0.113.80", "v6.test": "fe80::1", "mapped.test": "::ffff:127.0.0.1"}
	for _, tc := range []struct{ host, want string }{
		{"corp.test", "corp.test resolved to 10.20.0.5, a private address"},
		{"doc.test", "doc.test resolved to 203.0.113.80, a reserved address"},
		{"v6.test", "v6.test resolved to fe80::1, a link-local address"},
		{"mapped.test", "mapped.test resolved to ::ffff:127.0.0.1, a loopback address"},
		{"127.0.0.1", "127.0.0.1 is a loopback address"},
		{"192.168.1.9", "192.168.1.9 is a private address"},
		{"localhost", "localhost is a local name"},
		{"nowhere.test", "nowhere.test did not resolve here, so it cannot be checked to be public"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			w := newPolicyWorld(t, Config{}, staticResolver(names), true)
			v := w.t.check(t.Context(), w.a, Request{Key: httpKey(tc.host), Method: "GET"})
			if v.allow || v.denial.Reason != ReasonNotAllowedLocal {
				t.Fatalf("verdict = %+v, want a not_allowed_local denial", v)
			}
			if v.denial.Detail != tc.want {
				t.Errorf("detail %q, want %q", v.denial.Detail, tc.want)
			}
			if b, _ := w.a.Blocks(); len(b) != 1 || b[0].Detail != tc.want {
				t.Errorf("blocks = %+v, want one with the detail", b)
			}
			if w.prompts.Load() != 0 {
				t.Error("a local destination prompted")
			}
		})
	}
}

package termclient

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"app-server/protocol"
)

func ptr[T any](v T) *T { return &v }

var plain = style{}

func TestFormatCommandResult(t *testing.T) {
	for _, tc := range []struct {
		name string
		item protocol.CommandExecutionItem
		note string
		want string
	}{
		{"ok", protocol.CommandExecutionItem{Status: protocol.CommandCompleted, ExitCode: ptr[int32](0), DurationMs: ptr[int64](12)}, "", "-> exit 0 in 12ms"},
		{"exit code", protocol.CommandExecutionItem{Status: protocol.CommandFailed, ExitCode: ptr[int32](7), DurationMs: ptr[int64](1234)}, "", "-> exit 7 in 1.2s"},
		{"killed", protocol.CommandExecutionItem{Status: protocol.CommandFailed, ExitCode: ptr[int32](-1), DurationMs: ptr[int64](510)}, "", "-> killed in 510ms"},
		{"declined", protocol.CommandExecutionItem{Status: protocol.CommandDeclined}, "declined by the user", "-> not run, declined: declined by the user"},
		{"failed without code", protocol.CommandExecutionItem{Status: protocol.CommandFailed}, "network proxy unavailable", "-> failed: network proxy unavailable"},
		{"minutes", protocol.CommandExecutionItem{Status: protocol.CommandCompleted, ExitCode: ptr[int32](0), DurationMs: ptr[int64](125_000)}, "", "-> exit 0 in 2m05s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatCommandResult(&tc.item, tc.note, plain); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFormatDenial(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"[network] http 127.0.0.1:8080 blocked: not_allowed (decider)", "!! network: 127.0.0.1:8080 over http denied (not_allowed; declined at the prompt)"},
		{"[network] https example.com:443 blocked: denied (baseline_policy)", "!! network: example.com:443 over https denied (denied; a deny rule matches)"},
		{"[network] socks5Tcp 10.0.0.1:22 blocked: not_allowed_local (baseline_policy): 10.0.0.1 is a private address", "!! network: 10.0.0.1:22 over socks5Tcp denied (not_allowed_local: 10.0.0.1 is a private address; local and private addresses are refused without a prompt; network.allow_local_binding = true makes them prompt)"},
		{"[network] https registry.example:443 blocked: not_allowed_local (baseline_policy): registry.example resolved to 203.0.113.80, a reserved address", "!! network: registry.example:443 over https denied (not_allowed_local: registry.example resolved to 203.0.113.80, a reserved address; local and private addresses are refused without a prompt; network.allow_local_binding = true makes them prompt)"},
		{"[network] http a.com:80 blocked: timeout (decider): Network approval timed out.", "!! network: a.com:80 over http denied (timeout: Network approval timed out)"},
		{"[network] http a.com:80 blocked: not_allowed (decider): Domain not in allowlist.", "!! network: a.com:80 over http denied (not_allowed: Domain not in allowlist; declined at the prompt)"},
		{"[network] http a.com:80 blocked: something_new (x)", "!! network: a.com:80 over http denied (something_new)"},
	} {
		got, ok := formatDenial(tc.line, plain)
		if !ok || got != tc.want {
			t.Errorf("formatDenial(%q) = %q, %v\nwant %q", tc.line, got, ok, tc.want)
		}
	}
	if _, ok := formatDenial("hello [network]", plain); ok {
		t.Error("a line not starting with [network] is a denial")
	}
}

func TestUnstreamed(t *testing.T) {
	for _, tc := range []struct {
		name, agg, streamed, want string
	}{
		{"all streamed", "200\n", "200\n", ""},
		{"denial appended", "403\n[network] http h:1 blocked: not_allowed (decider)\n", "403\n", "[network] http h:1 blocked: not_allowed (decider)\n"},
		{"never ran", "declined by the user\n", "", "declined by the user\n"},
		{"tail only", "xyz\n[network] http h:1 blocked: x (y)\n", "...lots...xyz\n", "[network] http h:1 blocked: x (y)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unstreamed(&tc.agg, tc.streamed); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if unstreamed(nil, "x") != "" {
		t.Error("nil aggregated output")
	}
}

func TestFormatPromptNetwork(t *testing.T) {
	p := &protocol.CommandExecutionRequestApprovalParams{
		NetworkApprovalContext:          &protocol.NetworkApprovalContext{Host: "127.0.0.1", Protocol: protocol.NetworkHTTP, Port: ptr[uint16](8080)},
		ProposedNetworkPolicyAmendments: []protocol.NetworkPolicyAmendment{{Host: "127.0.0.1", Action: protocol.RuleAllow}, {Host: "127.0.0.1", Action: protocol.RuleDeny}},
	}
	got := formatPrompt(p, 2, protocol.NetworkTimeoutDecline, time.Now(), plain)
	want := []string{
		"?? allow 127.0.0.1:8080 over http?  (2 more waiting)",
		"   [a] once  [s] session  [p] always allow 127.0.0.1  [x] always deny 127.0.0.1  [d] decline  [c] cancel turn",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

// A network prompt that expires says what the server answers then, and
// when: "(declines in 4 s)".
func TestFormatPromptNetworkExpiry(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	p := &protocol.CommandExecutionRequestApprovalParams{
		NetworkApprovalContext: &protocol.NetworkApprovalContext{Host: "example.com", Protocol: protocol.NetworkHTTPS, Port: ptr[uint16](443)},
		ExpiresAtMs:            ptr[int64](1_003_600),
	}
	for _, tc := range []struct {
		on   protocol.NetworkTimeoutDecision
		want string
	}{
		{protocol.NetworkTimeoutDecline, "?? allow example.com:443 over https?  (declines in 4 s)"},
		{protocol.NetworkTimeoutAccept, "?? allow example.com:443 over https?  (accepts in 4 s)"},
	} {
		if got := formatPrompt(p, 0, tc.on, now, plain)[0]; got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	if got := formatPrompt(p, 0, protocol.NetworkTimeoutDecline, now.Add(5*time.Second), plain)[0]; strings.Contains(got, "(") {
		t.Errorf("expired prompt: %q still counts down", got)
	}
}

func TestPromptQuestion(t *testing.T) {
	for _, tc := range []struct {
		p    protocol.CommandExecutionRequestApprovalParams
		want string
	}{
		{protocol.CommandExecutionRequestApprovalParams{NetworkApprovalContext: &protocol.NetworkApprovalContext{Host: "::1", Protocol: protocol.NetworkHTTPS, Port: ptr[uint16](443)}}, "allow [::1]:443 over https?"},
		{protocol.CommandExecutionRequestApprovalParams{NetworkApprovalContext: &protocol.NetworkApprovalContext{Host: "a.com", Protocol: protocol.NetworkSOCKS5TCP}}, "allow a.com over socks5Tcp?"},
		{protocol.CommandExecutionRequestApprovalParams{Command: ptr("make test"), Cwd: ptr("/src")}, "run `make test` in /src?"},
	} {
		if got := promptQuestion(&tc.p); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestFormatPromptCommandHintsAndExpiry(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	p := &protocol.CommandExecutionRequestApprovalParams{
		Command: ptr("git fetch"), Cwd: ptr("/src"),
		ProposedExecpolicyAmendment: []string{"git", "fetch"},
		ExpiresAtMs:                 ptr[int64](1_030_000),
	}
	got := formatPrompt(p, 0, protocol.NetworkTimeoutDecline, now, plain)
	want := []string{
		"?? run `git fetch` in /src?  (the server answers in 30 s)",
		"   [a] once  [s] session  [p] always allow `git fetch`  [d] decline  [c] cancel turn",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestFormatTurnEnd(t *testing.T) {
	for _, tc := range []struct {
		turn protocol.Turn
		want string
	}{
		{protocol.Turn{Status: protocol.TurnCompleted, DurationMs: ptr[int64](40)}, "-- turn completed in 40ms"},
		{protocol.Turn{Status: protocol.TurnInterrupted}, "-- turn interrupted"},
		{protocol.Turn{Status: protocol.TurnFailed, Error: &protocol.TurnError{Message: "boom"}}, "-- turn failed: boom"},
	} {
		if got := formatTurnEnd(tc.turn, plain); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestFormatGrants(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.Local)
	http := protocol.NetworkHTTP
	g := []protocol.NetworkGrant{
		{Host: "127.0.0.1", Protocol: &http, Port: ptr[uint16](8080), Action: protocol.RuleAllow, Scope: protocol.ScopeSession, GrantedAtMs: now.Add(-time.Hour).UnixMilli(), Hits: 2},
		{Host: "evil.com", Action: protocol.RuleDeny, Scope: protocol.ScopePersistent, GrantedAtMs: time.Date(2026, 1, 2, 3, 4, 0, 0, time.Local).UnixMilli()},
	}
	want := `HOST       PROTOCOL  PORT  ACTION  SCOPE       HITS  OPEN  SINCE
127.0.0.1  http      8080  allow   session     2     0     11:00:00
evil.com   *         *     deny    persistent  0     0     2026-01-02 03:04
`
	if d := cmp.Diff(want, formatGrants(g, now)); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	if got := formatGrants(nil, now); !strings.HasPrefix(got, "network: nothing remembered") {
		t.Errorf("empty: %q", got)
	}
}

func TestFormatThreadsMarksCurrent(t *testing.T) {
	now := time.Now()
	got := formatThreads([]protocol.Thread{
		{ID: "t1", Cwd: "/a", Preview: "echo 1", UpdatedAt: now.Unix()},
		{ID: "t2", Cwd: "/b", Preview: strings.Repeat("x", 80), UpdatedAt: now.Unix()},
	}, "t2", map[string]string{"t1": "t1", "t2": "t2"}, now)
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "  t1  t1 ") || !strings.HasPrefix(lines[2], "* t2  t2 ") || !strings.HasSuffix(lines[2], "...") {
		t.Errorf("got\n%s", got)
	}
}

// The prefix /threads shows and /resume takes is counted from where the
// ids differ: UUIDv7 ids made the same minute share their first dozen
// characters.
func TestShortPrefixes(t *testing.T) {
	ids := []string{
		"019ad3f2-1b3c-7a01-8000-000000000001",
		"019ad3f2-1b3c-7b02-8000-000000000002",
		"019ad3f2-1b4d-7c03-8000-000000000003",
		"019bd3f2-0000-7000-8000-000000000004",
	}
	got := shortPrefixes(ids)
	want := map[string]string{
		ids[0]: "019ad3f2-1b3c-7a",
		ids[1]: "019ad3f2-1b3c-7b",
		ids[2]: "019ad3f2-1b4",
		ids[3]: "019b",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	if got := shortPrefixes(ids[:1]); got[ids[0]] != "0" {
		t.Errorf("one id: %q, want one character", got[ids[0]])
	}
}

// TestRendererFlow renders a whole turn into one buffer, as the
// interactive client does, and checks what the user reads.
func TestRendererFlow(t *testing.T) {
	var b strings.Builder
	r := newRenderer(&b, &b, plain, true)
	item := &protocol.CommandExecutionItem{ID: "i1", Command: "curl -s http://127.0.0.1:8080/", Cwd: "/w"}
	r.itemStarted(item)
	r.delta("i1", "HTTP/1.1 403")
	done := *item
	done.Status, done.ExitCode, done.DurationMs = protocol.CommandCompleted, ptr[int32](0), ptr[int64](5)
	done.AggregatedOutput = ptr("HTTP/1.1 403[network] http 127.0.0.1:8080 blocked: not_allowed (decider)\n")
	r.itemCompleted(&done)
	r.turnCompleted(protocol.Turn{Status: protocol.TurnCompleted})
	want := `$ curl -s http://127.0.0.1:8080/   (in /w)
HTTP/1.1 403
!! network: 127.0.0.1:8080 over http denied (not_allowed; declined at the prompt)
-> exit 0 in 5ms
-- turn completed
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

// TestRendererExecSplitsStreams: with --exec, command output goes to out
// and nothing else does.
func TestRendererExecSplitsStreams(t *testing.T) {
	var out, ui strings.Builder
	r := newRenderer(&out, &ui, plain, false)
	item := &protocol.CommandExecutionItem{ID: "i1", Command: "echo hi", Cwd: "/w"}
	r.itemStarted(item)
	r.delta("i1", "hi\n")
	done := *item
	done.Status, done.ExitCode, done.AggregatedOutput = protocol.CommandCompleted, ptr[int32](0), ptr("hi\n")
	r.itemCompleted(&done)
	if out.String() != "hi\n" {
		t.Errorf("out = %q", out.String())
	}
	if strings.Contains(ui.String(), "hi\n") && !strings.Contains(ui.String(), "$ echo hi") {
		t.Errorf("ui = %q", ui.String())
	}
}

func TestStyleColour(t *testing.T) {
	if got := (style{color: true}).red("x"); got != "\x1b[31mx\x1b[0m" {
		t.Errorf("colour: %q", got)
	}
	if got := plain.red("x"); got != "x" {
		t.Errorf("no colour: %q", got)
	}
}

func TestCRLFWriter(t *testing.T) {
	var b strings.Builder
	crlfWriter{&b}.Write([]byte("a\nb\n"))
	crlfWriter{&b}.Write([]byte("c"))
	if b.String() != "a\r\nb\r\nc" {
		t.Errorf("got %q", b.String())
	}
}

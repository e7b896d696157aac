package netapproval

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// ExecInfo describes one command execution that may use the network.
type ExecInfo struct {
	ThreadID  string
	TurnID    string
	CommandID string
	Command   string // for logs only
	// PromptsAllowed is false when the approval policy is "never" or no turn
	// is running: allowlist misses are then denied without a prompt.
	PromptsAllowed bool
}

// Attachment is one command execution's proxy credential. Every request
// through the proxy carries exactly one credential, so it is attributed to
// one thread, turn and command even when several commands run at once.
type Attachment struct {
	m    *Manager
	t    *Thread
	info ExecInfo
	// user and token form the credential; immutable. user is public (it
	// appears in logs), token is the secret.
	user  string
	token string

	mu     sync.Mutex // guards the fields below
	closed bool
	blocks blockList
}

func newAttachment(m *Manager, t *Thread, info ExecInfo) *Attachment {
	var secret [24]byte
	if _, err := rand.Read(secret[:]); err != nil {
		panic("netapproval: crypto/rand failed: " + err.Error())
	}
	return &Attachment{
		m: m, t: t, info: info,
		user:  strings.ReplaceAll(uuid.NewString(), "-", ""),
		token: hex.EncodeToString(secret[:]),
	}
}

// Env returns the proxy variables for the command's environment:
// HTTP_PROXY, HTTPS_PROXY, http_proxy, https_proxy (the HTTP proxy URL),
// ALL_PROXY, all_proxy (the SOCKS5 URL, socks5h so names resolve at the
// proxy) and NO_PROXY, no_proxy set empty so nothing bypasses the proxy.
// It returns nil before Manager.Start.
func (a *Attachment) Env() []string {
	httpURL, socksURL := a.HTTPProxyURL(), a.SOCKSProxyURL()
	if httpURL == "" {
		return nil
	}
	return []string{
		"HTTP_PROXY=" + httpURL, "HTTPS_PROXY=" + httpURL,
		"http_proxy=" + httpURL, "https_proxy=" + httpURL,
		"ALL_PROXY=" + socksURL, "all_proxy=" + socksURL,
		"NO_PROXY=", "no_proxy=",
	}
}

// HTTPProxyURL is http://<id>:<token>@127.0.0.1:<port>, or "" before Start.
func (a *Attachment) HTTPProxyURL() string { return a.proxyURL("http", a.m.HTTPAddr().Port()) }

// SOCKSProxyURL is socks5h://<id>:<token>@127.0.0.1:<port>, or "" before
// Start.
func (a *Attachment) SOCKSProxyURL() string { return a.proxyURL("socks5h", a.m.SOCKSAddr().Port()) }

func (a *Attachment) proxyURL(scheme string, port uint16) string {
	if port == 0 {
		return ""
	}
	u := url.URL{Scheme: scheme, User: url.UserPassword(a.user, a.token), Host: "127.0.0.1:" + strconv.Itoa(int(port))}
	return u.String()
}

// Blocks returns the destinations refused for this command, one Block
// each in the order they were first refused, and how many more were refused
// past the first 1024. It does not consume them.
func (a *Attachment) Blocks() ([]Block, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.blocks.snapshot()
}

// Close revokes the credential: later requests with it get 407 (HTTP) or an
// authentication failure (SOCKS5). Connections already open are left to end
// with the command. The prompts only this command asked for are resolved
// as denied (the command ended before an answer), and Close returns once
// their Prompter calls have returned (so the client has been told before
// the command's item completes); an answer arriving later changes nothing.
// Idempotent.
func (a *Attachment) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	a.m.forgetCredential(a)
	a.t.mu.Lock()
	delete(a.t.attachments, a)
	var orphans []*pending
	for _, pd := range a.t.pending {
		delete(pd.askers, a)
		if len(pd.askers) == 0 {
			orphans = append(orphans, pd)
		}
	}
	a.t.mu.Unlock()
	for _, pd := range orphans {
		pd.cancel(errCommandEnded)
		a.t.settle(pd, a.t.endedOutcome(pd))
	}
	for _, pd := range orphans {
		<-pd.asked
	}
}

// matches reports whether token is this attachment's secret, in constant
// time.
func (a *Attachment) matches(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(a.token)) == 1
}

// recordBlock remembers a refused request for the command and its thread.
func (a *Attachment) recordBlock(k Key, d *Denial) {
	b := Block{
		ThreadID: a.t.id, TurnID: a.info.TurnID, CommandID: a.info.CommandID,
		Key: k, Reason: d.Reason, Source: d.Source, Message: d.Message, Detail: d.Detail, At: time.Now(),
	}
	a.mu.Lock()
	a.blocks.add(b)
	a.mu.Unlock()
	a.m.log.Info("network request blocked", "thread", a.t.id, "turn", a.info.TurnID, "command", a.info.CommandID,
		"exec", a.info.Command, "key", k.String(), "reason", d.Reason.String(), "source", d.Source.String(), "message", d.Message)
}

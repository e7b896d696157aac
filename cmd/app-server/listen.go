package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"app-server/rpc"
)

// listenOptions are the transport flags of the serving subcommands, named
// as `codex app-server` names them so that SDKs that spawn it can spawn us.
type listenOptions struct {
	listen       string // --listen: stdio:// (default), ws://IP:PORT, off
	auth         string // --ws-auth: capability-token | signed-bearer-token
	tokenFile    string // --ws-token-file
	tokenSHA256  string // --ws-token-sha256
	secretFile   string // --ws-shared-secret-file
	issuer       string // --ws-issuer
	audience     string // --ws-audience
	skewSeconds  int    // --ws-max-clock-skew-seconds
	skewWasGiven bool
}

// codexOnlyFlags are flags of `codex app-server` this server does not have:
// they are refused by name rather than as unknown.
var codexOnlyFlags = []struct {
	name    string
	boolean bool
}{
	{"startup-sign-out", true}, {"enable", false}, {"disable", false},
	{"print-startup-config", true}, {"startup-client-info", false},
	{"cloud-skills-snapshot", false}, {"code-mode-host", false},
	{"strict-config", true}, {"analytics-default-enabled", true},
}

const defaultClockSkewSeconds = 30

// addFlags registers the transport flags on fs.
func (o *listenOptions) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.listen, "listen", o.listen, "")
	fs.BoolFunc("stdio", "", func(string) error { o.listen = "stdio://"; return nil })
	fs.StringVar(&o.auth, "ws-auth", o.auth, "")
	fs.StringVar(&o.tokenFile, "ws-token-file", o.tokenFile, "")
	fs.StringVar(&o.tokenSHA256, "ws-token-sha256", o.tokenSHA256, "")
	fs.StringVar(&o.secretFile, "ws-shared-secret-file", o.secretFile, "")
	fs.StringVar(&o.issuer, "ws-issuer", o.issuer, "")
	fs.StringVar(&o.audience, "ws-audience", o.audience, "")
	fs.Func("ws-max-clock-skew-seconds", "", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errors.New("want a number of seconds, 0 or more")
		}
		o.skewSeconds, o.skewWasGiven = n, true
		return nil
	})
	for _, f := range codexOnlyFlags {
		refuse := func(string) error {
			return fmt.Errorf("--%s is a Codex option this server does not have", f.name)
		}
		if f.boolean {
			fs.BoolFunc(f.name, "", refuse)
		} else {
			fs.Func(f.name, "", refuse)
		}
	}
}

// transport is what --listen and the ws flags resolve to.
type transport struct {
	stdio bool
	off   bool
	addr  netip.AddrPort             // ws: the address to bind
	auth  func(*http.Request) string // ws: nil when no auth is configured
}

// resolve checks the transport flags together and reads the auth files.
func (o *listenOptions) resolve() (*transport, error) {
	t := &transport{}
	switch l := o.listen; {
	case l == "" || l == "stdio://" || l == "stdio":
		t.stdio = true
	case l == "off":
		t.off = true
	case strings.HasPrefix(l, "ws://"):
		ap, err := netip.ParseAddrPort(strings.TrimPrefix(l, "ws://"))
		if err != nil {
			return nil, usagef("--listen %s: want ws://IP:PORT with an IP literal (ws://127.0.0.1:0, ws://[::1]:8765): %v", l, err)
		}
		t.addr = ap
	case strings.HasPrefix(l, "unix://"):
		return nil, usagef("--listen %s: unix sockets are a Codex transport this server does not have (use stdio:// or ws://IP:PORT)", l)
	default:
		return nil, usagef("--listen %q: want stdio://, ws://IP:PORT or off", l)
	}
	wsFlags := o.auth != "" || o.tokenFile != "" || o.tokenSHA256 != "" || o.secretFile != "" || o.issuer != "" || o.audience != "" || o.skewWasGiven
	if !t.addr.IsValid() {
		if wsFlags {
			return nil, usagef("the --ws-* flags need --listen ws://IP:PORT")
		}
		return t, nil
	}
	auth, err := o.authorizer()
	if err != nil {
		return nil, err
	}
	if auth == nil && !t.addr.Addr().IsLoopback() {
		return nil, usagef("refusing to start the non-loopback WebSocket listener %s without auth (it is reachable from other hosts): give it --ws-auth capability-token or signed-bearer-token, or listen on 127.0.0.1 or [::1]", t.addr)
	}
	t.auth = auth
	return t, nil
}

// Messages of the 401 answer, as Codex words them.
const (
	msgMissingBearer = "missing websocket bearer token"
	msgInvalidBearer = "invalid websocket bearer token"
	msgNotBearer     = "invalid authorization header"
)

// authorizer builds the check of --ws-auth, or nil without auth.
func (o *listenOptions) authorizer() (func(*http.Request) string, error) {
	switch o.auth {
	case "":
		if o.tokenFile != "" || o.tokenSHA256 != "" || o.secretFile != "" {
			return nil, usagef("--ws-token-file, --ws-token-sha256 and --ws-shared-secret-file need --ws-auth")
		}
		return nil, nil
	case "capability-token":
		if o.secretFile != "" || o.issuer != "" || o.audience != "" || o.skewWasGiven {
			return nil, usagef("--ws-auth capability-token takes --ws-token-file or --ws-token-sha256, not the JWT flags")
		}
		digest, err := o.tokenDigest()
		if err != nil {
			return nil, err
		}
		return bearerCheck(func(tok string) bool {
			got := sha256.Sum256([]byte(tok))
			return subtle.ConstantTimeCompare(got[:], digest) == 1
		}), nil
	case "signed-bearer-token":
		if o.tokenFile != "" || o.tokenSHA256 != "" {
			return nil, usagef("--ws-auth signed-bearer-token takes --ws-shared-secret-file, not a capability token")
		}
		return o.jwtCheck()
	}
	return nil, usagef("--ws-auth %q: want capability-token or signed-bearer-token", o.auth)
}

// tokenDigest returns the SHA-256 of the capability token.
func (o *listenOptions) tokenDigest() ([]byte, error) {
	switch {
	case (o.tokenFile == "") == (o.tokenSHA256 == ""):
		return nil, usagef("--ws-auth capability-token needs exactly one of --ws-token-file PATH and --ws-token-sha256 HEX")
	case o.tokenSHA256 != "":
		d, err := hex.DecodeString(o.tokenSHA256)
		if err != nil || len(d) != sha256.Size {
			return nil, usagef("--ws-token-sha256: want 64 hex digits (a SHA-256 digest)")
		}
		return d, nil
	}
	b, err := os.ReadFile(o.tokenFile)
	if err != nil {
		return nil, fmt.Errorf("--ws-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return nil, fmt.Errorf("--ws-token-file %s: the file holds no token", o.tokenFile)
	}
	d := sha256.Sum256([]byte(tok))
	return d[:], nil
}

// minSecretBytes is the shortest HS256 secret accepted (RFC 7518 3.2: at
// least the hash size).
const minSecretBytes = 32

// jwtCheck checks an HS256 JWT: signature, exp (required), nbf, and issuer
// and audience when configured, within the clock skew.
func (o *listenOptions) jwtCheck() (func(*http.Request) string, error) {
	if o.secretFile == "" {
		return nil, usagef("--ws-auth signed-bearer-token needs --ws-shared-secret-file PATH")
	}
	secret, err := os.ReadFile(o.secretFile)
	if err != nil {
		return nil, fmt.Errorf("--ws-shared-secret-file: %w", err)
	}
	secret = []byte(strings.TrimSpace(string(secret)))
	if len(secret) < minSecretBytes {
		return nil, fmt.Errorf("--ws-shared-secret-file %s: the secret has %d bytes, want at least %d", o.secretFile, len(secret), minSecretBytes)
	}
	skew := defaultClockSkewSeconds
	if o.skewWasGiven {
		skew = o.skewSeconds
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(time.Duration(skew) * time.Second),
	}
	if o.issuer != "" {
		popts = append(popts, jwt.WithIssuer(o.issuer))
	}
	if o.audience != "" {
		popts = append(popts, jwt.WithAudience(o.audience))
	}
	parser := jwt.NewParser(popts...)
	key := func(*jwt.Token) (any, error) { return secret, nil }
	return bearerCheck(func(tok string) bool {
		_, err := parser.Parse(tok, key)
		return err == nil
	}), nil
}

// bearerCheck adapts a token check to the upgrade request: the token is
// the Authorization header's Bearer credential (scheme case-insensitive).
func bearerCheck(valid func(token string) bool) func(*http.Request) string {
	return func(r *http.Request) string {
		h := strings.TrimSpace(r.Header.Get("Authorization"))
		if h == "" {
			return msgMissingBearer
		}
		scheme, tok, _ := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return msgNotBearer
		}
		if !valid(tok) {
			return msgInvalidBearer
		}
		return ""
	}
}

// listen binds the WebSocket address and prints where it listens on
// stderr, as Codex does.
func (t *transport) listen(stderr interface{ Write([]byte) (int, error) }) (net.Listener, error) {
	ln, err := net.Listen("tcp", t.addr.String())
	if err != nil {
		return nil, err
	}
	a := ln.Addr().String()
	fmt.Fprintf(stderr, "app-server (WebSockets)\n  listening on: ws://%s\n  readyz: http://%s/readyz\n  healthz: http://%s/healthz\n", a, a, a)
	return ln, nil
}

// webSocketOptions are the rpc options of this transport.
func (t *transport) webSocketOptions() rpc.WebSocketOptions {
	return rpc.WebSocketOptions{Authorize: t.auth}
}

// listenDoc is the help paragraph of the transport flags.
const listenDoc = `
--listen stdio:// (the default) serves stdin/stdout; --listen ws://IP:PORT
serves WebSocket clients (an IP literal; port 0 picks one, printed on
stderr), one JSON-RPC message per text frame, with GET /readyz and /healthz;
--listen off serves nothing until a signal. Requests with an Origin header
get 403. A listener on a non-loopback address needs --ws-auth:
  --ws-auth capability-token --ws-token-file PATH | --ws-token-sha256 HEX
  --ws-auth signed-bearer-token --ws-shared-secret-file PATH (HS256 JWT,
    exp required; --ws-issuer, --ws-audience, --ws-max-clock-skew-seconds
    (default 30); the secret has at least 32 bytes)
Clients send "Authorization: Bearer TOKEN" on the upgrade.`

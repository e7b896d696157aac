package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
)

// wsServer is the binary serving --listen ws://127.0.0.1:0.
type wsServer struct {
	t      *testing.T
	addr   string // host:port it printed
	cmd    *exec.Cmd
	stderr *lockedWriter
	exited chan struct{}
}

// startWS starts the server on a WebSocket listener with extra flags and
// waits for the address it prints on stderr.
func startWS(t *testing.T, config string, args ...string) *wsServer {
	t.Helper()
	home := t.TempDir()
	if config != "" {
		if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(serverBin, append([]string{"--home", home, "--log-level", "debug", "app-server", "--listen", "ws://127.0.0.1:0"}, args...)...)
	cmd.Env = withoutProxyVars(os.Environ())
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &wsServer{t: t, cmd: cmd, stderr: &lockedWriter{w: &bytes.Buffer{}}, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.stderr, line)
			if a, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on: ws://"); ok {
				addrc <- a
			}
		}
		close(addrc)
	}()
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Errorf("server did not exit within 5s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderrText())
		}
	})
	select {
	case a, ok := <-addrc:
		if !ok {
			t.Fatalf("server exited without printing its address:\n%s", s.stderrText())
		}
		s.addr = a
	case <-time.After(10 * time.Second):
		t.Fatalf("no listening address within 10s:\n%s", s.stderrText())
	}
	return s
}

func (s *wsServer) stderrText() string {
	s.stderr.mu.Lock()
	defer s.stderr.mu.Unlock()
	return s.stderr.w.String()
}

// get sends a plain HTTP GET with headers and returns status and body.
func (s *wsServer) get(path string, header map[string]string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest("GET", "http://"+s.addr+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// wsClient is one WebSocket client of the server.
type wsClient struct {
	t      *testing.T
	c      *websocket.Conn
	in     chan msg // every message, in order
	nextID int
	gate   chan struct{} // holds the reader's token; pauseReading takes it
}

// pauseReading stops reading the socket after at most one more message:
// the client is a slow client from then on.
func pauseReading(w *wsClient) { <-w.gate }

func resumeReading(w *wsClient) { w.gate <- struct{}{} }

// dial connects with an optional bearer token.
func (s *wsServer) dial(token string) (*wsClient, error) {
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+s.addr, opts)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	w := &wsClient{t: s.t, c: c, in: make(chan msg, 1<<16), gate: make(chan struct{}, 1)}
	w.gate <- struct{}{}
	go w.readLoop()
	s.t.Cleanup(func() { c.CloseNow() })
	return w, nil
}

func (s *wsServer) client(token string) *wsClient {
	s.t.Helper()
	w, err := s.dial(token)
	if err != nil {
		s.t.Fatalf("dial: %v", err)
	}
	return w
}

func (w *wsClient) readLoop() {
	defer close(w.in)
	for {
		w.gate <- <-w.gate // wait while paused
		typ, b, err := w.c.Read(context.Background())
		if err != nil {
			return
		}
		var m msg
		if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil {
			w.t.Errorf("server sent a frame that is not a JSON text message: %v %q", typ, b)
			continue
		}
		m.Raw = b
		w.in <- m
	}
}

func (w *wsClient) write(s string) {
	w.t.Helper()
	if err := w.c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// next returns the next message, failing after 20 s.
func (w *wsClient) next() msg {
	w.t.Helper()
	select {
	case m, ok := <-w.in:
		if !ok {
			w.t.Fatal("connection closed")
		}
		return m
	case <-time.After(20 * time.Second):
		w.t.Fatal("no message within 20s")
	}
	return msg{}
}

// waitFor skips messages until one satisfies ok.
func (w *wsClient) waitFor(ok func(msg) bool) msg {
	w.t.Helper()
	for {
		if m := w.next(); ok(m) {
			return m
		}
	}
}

func (w *wsClient) waitMethod(method string) msg {
	w.t.Helper()
	return w.waitFor(func(m msg) bool { return m.Method == method })
}

// call sends a request and returns its response, skipping other messages.
func (w *wsClient) call(method string, params any) msg {
	w.t.Helper()
	w.nextID++
	id := fmt.Sprintf(`"c%d"`, w.nextID)
	b, _ := json.Marshal(params)
	w.write(fmt.Sprintf(`{"id":%s,"method":%q,"params":%s}`, id, method, b))
	return w.waitFor(func(m msg) bool { return m.isResponse() && string(m.ID) == id })
}

func (w *wsClient) initialize() {
	w.t.Helper()
	if r := w.call("initialize", map[string]any{"clientInfo": map[string]string{"name": "ws-e2e", "version": "1"}}); r.Error != nil {
		w.t.Fatalf("initialize: %s", r.Raw)
	}
	w.write(`{"method":"initialized"}`)
}

func mustResult(t *testing.T, m msg) msg {
	t.Helper()
	if m.Error != nil {
		t.Fatalf("error response: %s", m.Raw)
	}
	return m
}

func TestWebSocketHTTPSurface(t *testing.T) {
	s := startWS(t, "")
	for _, tc := range []struct {
		path   string
		header map[string]string
		status int
	}{
		{"/readyz", nil, 200},
		{"/healthz", nil, 200},
		{"/", nil, 400},
		{"/readyz", map[string]string{"Origin": "http://127.0.0.1"}, 403},
		{"/", map[string]string{"Origin": "http://" + s.addr, "Connection": "Upgrade", "Upgrade": "websocket"}, 403},
	} {
		if got, body := s.get(tc.path, tc.header); got != tc.status {
			t.Errorf("GET %s %v: %d %q, want %d", tc.path, tc.header, got, body, tc.status)
		}
	}
	// The same library's client with an Origin header is refused too.
	_, resp, err := websocket.Dial(context.Background(), "ws://"+s.addr, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("dial with Origin: %v, %v; want 403", err, resp)
	}
}

func TestWebSocketWireMatchesStdio(t *testing.T) {
	s := startWS(t, "")
	c := s.client("")
	// Before initialize, as on stdio.
	if r := c.call("thread/loaded/list", map[string]any{}); r.Error == nil || r.Error.Code != -32600 {
		t.Errorf("before initialize: %s", r.Raw)
	}
	c.initialize()
	c.write(`not json`)
	if m := c.next(); string(m.ID) != "null" || m.Error == nil || m.Error.Code != -32700 {
		t.Errorf("invalid JSON answered %s", m.Raw)
	}
	c.write(`[{"id":1,"method":"thread/loaded/list"}]`)
	if m := c.next(); string(m.ID) != "null" || m.Error == nil || m.Error.Code != -32600 {
		t.Errorf("batch answered %s", m.Raw)
	}
	if err := c.c.Write(context.Background(), websocket.MessageBinary, []byte(`{"id":2,"method":"thread/loaded/list"}`)); err != nil {
		t.Fatal(err)
	}
	if m := c.next(); string(m.ID) != "null" || m.Error == nil || m.Error.Code != -32600 || !strings.Contains(m.Error.Message, "binary") {
		t.Errorf("binary frame answered %s", m.Raw)
	}
	if r := c.call("initialize", map[string]any{"clientInfo": map[string]string{"name": "x", "version": "1"}}); r.Error == nil || r.Error.Message != "Already initialized" {
		t.Errorf("second initialize: %s", r.Raw)
	}
	if err := c.c.Ping(context.Background()); err != nil {
		t.Errorf("ping: %v", err)
	}
	if bytes.Contains(mustResult(t, c.call("thread/loaded/list", map[string]any{})).Raw, []byte(`"jsonrpc"`)) {
		t.Errorf("output has a jsonrpc member")
	}
	// A second connection initializes on its own.
	d := s.client("")
	if r := d.call("thread/loaded/list", map[string]any{}); r.Error == nil || r.Error.Code != -32600 {
		t.Errorf("second connection before its initialize: %s", r.Raw)
	}
	d.initialize()
}

// dialStatus makes an upgrade request with an Authorization header (none
// when auth is "") and returns the status and body of a refusal.
func dialStatus(t *testing.T, s *wsServer, auth string) (int, string) {
	t.Helper()
	h := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	if auth != "" {
		h["Authorization"] = auth
	}
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/", nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.StatusCode, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestWebSocketCapabilityToken(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("  s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startWS(t, "", "--ws-auth", "capability-token", "--ws-token-file", tokenFile)
	for _, tc := range []struct {
		auth   string
		status int
		body   string
	}{
		{"", 401, "missing websocket bearer token"},
		{"Basic czNjcmV0", 401, "invalid authorization header"},
		{"Bearer wrong", 401, "invalid websocket bearer token"},
		{"Bearer s3cret-token-and-more", 401, "invalid websocket bearer token"},
	} {
		if st, body := dialStatus(t, s, tc.auth); st != tc.status || body != tc.body {
			t.Errorf("Authorization %q: %d %q, want %d %q", tc.auth, st, body, tc.status, tc.body)
		}
	}
	if _, err := s.dial(""); err == nil {
		t.Error("dial without a token succeeded")
	}
	c := s.client("s3cret-token")
	c.initialize()
	// The scheme is case-insensitive.
	if st, _ := dialStatus(t, s, "bearer s3cret-token"); st != http.StatusSwitchingProtocols {
		t.Errorf("lower-case bearer: %d, want 101", st)
	}

	// The token given as its SHA-256 digest instead of a file.
	sum := sha256.Sum256([]byte("s3cret-token"))
	h := startWS(t, "", "--ws-auth", "capability-token", "--ws-token-sha256", hex.EncodeToString(sum[:]))
	if st, body := dialStatus(t, h, "Bearer s3cret-token-and-more"); st != 401 || body != "invalid websocket bearer token" {
		t.Errorf("--ws-token-sha256, wrong token: %d %q", st, body)
	}
	h.client("s3cret-token").initialize()
}

func TestWebSocketSignedBearerToken(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef-long-enough")
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startWS(t, "", "--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", secretFile, "--ws-issuer", "ide", "--ws-audience", "app-server")
	sign := func(claims jwt.MapClaims, key []byte) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	good := jwt.MapClaims{"iss": "ide", "aud": "app-server", "exp": now.Add(time.Minute).Unix()}
	for name, tc := range map[string]struct {
		token string
		ok    bool
	}{
		"valid":                   {sign(good, secret), true},
		"expired":                 {sign(jwt.MapClaims{"iss": "ide", "aud": "app-server", "exp": now.Add(-time.Minute).Unix()}, secret), false},
		"expired within the skew": {sign(jwt.MapClaims{"iss": "ide", "aud": "app-server", "exp": now.Add(-10 * time.Second).Unix()}, secret), true},
		"no exp":                  {sign(jwt.MapClaims{"iss": "ide", "aud": "app-server"}, secret), false},
		"not yet valid":           {sign(jwt.MapClaims{"iss": "ide", "aud": "app-server", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(10 * time.Minute).Unix()}, secret), false},
		"wrong issuer":            {sign(jwt.MapClaims{"iss": "web", "aud": "app-server", "exp": now.Add(time.Minute).Unix()}, secret), false},
		"wrong audience":          {sign(jwt.MapClaims{"iss": "ide", "aud": "other", "exp": now.Add(time.Minute).Unix()}, secret), false},
		"wrong key":               {sign(good, []byte("another-secret-of-enough-length-000")), false},
	} {
		st, body := dialStatus(t, s, "Bearer "+tc.token)
		if tc.ok && st != http.StatusSwitchingProtocols {
			t.Errorf("%s: %d %q, want 101", name, st, body)
		}
		if !tc.ok && (st != 401 || body != "invalid websocket bearer token") {
			t.Errorf("%s: %d %q, want 401 invalid websocket bearer token", name, st, body)
		}
	}
	c := s.client(sign(good, secret))
	c.initialize()
}

// A listener other hosts can reach needs auth; bad transport flags and
// Codex-only flags are refused by name.
func TestListenFlagsRefused(t *testing.T) {
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("too short"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"app-server", "--listen", "ws://0.0.0.0:0"}, "non-loopback WebSocket listener 0.0.0.0:0 without auth"},
		{[]string{"app-server", "--listen", "ws://localhost:0"}, "IP literal"},
		{[]string{"app-server", "--listen", "unix://"}, "unix sockets"},
		{[]string{"app-server", "--enable", "x"}, "--enable is a Codex option"},
		{[]string{"app-server", "--strict-config"}, "--strict-config is a Codex option"},
		{[]string{"app-server", "--listen", "ws://127.0.0.1:0", "--ws-auth", "signed-bearer-token", "--ws-shared-secret-file", short}, "at least 32"},
		{[]string{"app-server", "--ws-auth", "capability-token"}, "need --listen ws://"},
	} {
		out, err := exec.Command(serverBin, append([]string{"--home", t.TempDir()}, tc.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: err %v, output %q; want a failure saying %q", tc.args, err, out, tc.want)
		}
	}
}

// The SDK-style spawn: `<bin> app-server --listen stdio://` serves stdio.
func TestSDKStyleSpawn(t *testing.T) {
	for _, args := range [][]string{{"app-server", "--listen", "stdio://"}, {"app-server", "--stdio"}, {"app-server"}} {
		p := startRaw(t, args...)
		p.write(initReq)
		if l := p.line(); !strings.Contains(l, `"id":"init","result"`) {
			t.Fatalf("%v: initialize answered %s", args, l)
		}
		p.write(`{"id":1,"method":"thread/loaded/list"}` + "\n")
		if l := p.line(); !strings.HasPrefix(l, `{"id":1,"result":`) {
			t.Fatalf("%v: %s", args, l)
		}
	}
}

// startThread starts a thread on c under untrusted (every command asks)
// and returns its id.
func startThread(t *testing.T, c *wsClient) string {
	t.Helper()
	r := mustResult(t, c.call("thread/start", map[string]any{"approvalPolicy": "untrusted", "cwd": t.TempDir()}))
	var res struct{ Thread struct{ ID string } }
	r.decode(t, &res)
	return res.Thread.ID
}

func startTurn(t *testing.T, c *wsClient, thread, command string) {
	t.Helper()
	mustResult(t, c.call("turn/start", map[string]any{"threadId": thread, "input": []map[string]string{{"type": "text", "text": command}}}))
}

func isApproval(m msg) bool { return m.Method == "item/commandExecution/requestApproval" }

func commandCompleted(m msg) bool {
	return m.Method == "item/completed" && strings.Contains(string(m.Params), `"commandExecution"`)
}

func turnCompleted(thread string) func(msg) bool {
	return func(m msg) bool {
		return m.Method == "turn/completed" && strings.Contains(string(m.Params), thread)
	}
}

// twoSubscribers starts a server and two clients: a starts a thread under
// untrusted (every command asks), b hears thread/started and resumes it.
func twoSubscribers(t *testing.T) (s *wsServer, a, b *wsClient, thread string) {
	t.Helper()
	s = startWS(t, "")
	a, b = s.client(""), s.client("")
	a.initialize()
	b.initialize()
	thread = startThread(t, a)
	b.waitMethod("thread/started") // every initialized client hears of it
	mustResult(t, b.call("thread/resume", map[string]any{"threadId": thread}))
	return s, a, b, thread
}

// Two clients on one thread: both get the prompt with the same id, the
// first answer wins, both hear serverRequest/resolved, the later answer is
// ignored, and both see the turn end.
func TestWebSocketTwoClientsAnswerOnePrompt(t *testing.T) {
	_, a, b, thread := twoSubscribers(t)
	startTurn(t, a, thread, "touch marker; echo shared-prompt")
	pa, pb := a.waitFor(isApproval), b.waitFor(isApproval)
	if string(pa.ID) != string(pb.ID) {
		t.Fatalf("prompt ids differ: %s and %s", pa.ID, pb.ID)
	}
	b.write(fmt.Sprintf(`{"id":%s,"result":{"decision":"accept"}}`, pb.ID))
	for _, c := range []*wsClient{a, b} {
		r := c.waitMethod("serverRequest/resolved")
		if !strings.Contains(string(r.Params), `"requestId":`+string(pa.ID)) {
			t.Errorf("resolved: %s", r.Raw)
		}
	}
	a.write(fmt.Sprintf(`{"id":%s,"result":{"decision":"decline"}}`, pa.ID)) // too late: ignored
	for _, c := range []*wsClient{a, b} {
		item := c.waitFor(commandCompleted)
		if !strings.Contains(string(item.Params), `"status":"completed"`) || !strings.Contains(string(item.Params), "shared-prompt") {
			t.Errorf("the command did not run as accepted: %s", item.Raw)
		}
		c.waitFor(turnCompleted(thread))
	}
	// thread/unsubscribe ends b's share of the thread.
	var st struct{ Status string }
	mustResult(t, b.call("thread/unsubscribe", map[string]any{"threadId": thread})).decode(t, &st)
	if st.Status != "unsubscribed" {
		t.Errorf("unsubscribe: %s", st.Status)
	}
	mustResult(t, b.call("thread/unsubscribe", map[string]any{"threadId": thread})).decode(t, &st)
	if st.Status != "notSubscribed" {
		t.Errorf("second unsubscribe: %s", st.Status)
	}
	mustResult(t, b.call("thread/unsubscribe", map[string]any{"threadId": "0199a6a1-7f3e-7c1a-9b2e-5d6f7a8b9c0d"})).decode(t, &st)
	if st.Status != "notLoaded" {
		t.Errorf("unsubscribe from an unknown thread: %s", st.Status)
	}
	startTurn(t, a, thread, "touch marker; echo second")
	a.waitFor(isApproval)
	// Whatever the server sent b about the thread by now is queued before
	// this response: only the broadcast status change may be among it.
	b.write(`{"id":"probe","method":"thread/loaded/list"}`)
	for {
		m := b.next()
		if string(m.ID) == `"probe"` {
			break
		}
		if strings.Contains(string(m.Raw), thread) && m.Method != "thread/status/changed" {
			t.Errorf("unsubscribed client got %s", m.Raw)
		}
	}
}

// A subscriber leaving does not end a prompt another still sees; a client
// that subscribes while it is open gets it replayed; when the last
// subscriber leaves, the prompt ends as a disconnect ends it.
func TestWebSocketClientLeavesMidPrompt(t *testing.T) {
	s, a, b, thread := twoSubscribers(t)
	startTurn(t, a, thread, "touch marker; echo after-leave")
	prompt := a.waitFor(isApproval)
	b.waitFor(isApproval)
	a.c.CloseNow()

	// A late subscriber gets the open prompt replayed, after its response.
	c := s.client("")
	c.initialize()
	mustResult(t, c.call("thread/resume", map[string]any{"threadId": thread}))
	replayed := c.waitFor(isApproval)
	if string(replayed.ID) != string(prompt.ID) {
		t.Fatalf("replayed prompt id %s, want %s", replayed.ID, prompt.ID)
	}
	b.c.CloseNow()
	c.write(fmt.Sprintf(`{"id":%s,"result":{"decision":"accept"}}`, replayed.ID))
	item := c.waitFor(commandCompleted)
	if !strings.Contains(string(item.Params), `"status":"completed"`) {
		t.Errorf("item after the remaining client accepted: %s", item.Raw)
	}
	c.waitFor(turnCompleted(thread))

	// The last subscriber leaves mid-prompt: the prompt ends (the command
	// does not run) and the turn completes without anyone.
	startTurn(t, c, thread, "touch marker; echo never-runs")
	c.waitFor(isApproval)
	c.c.CloseNow()
	d := s.client("")
	d.initialize()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := mustResult(t, d.call("thread/read", map[string]any{"threadId": thread, "includeTurns": true}))
		if n := strings.Count(string(r.Result), `"status":"inProgress"`); n == 0 {
			if strings.Contains(string(r.Result), "never-runs\\n") {
				t.Errorf("the command ran after its last subscriber left: %s", r.Result)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("turn still in progress 20s after its last subscriber left: %s", r.Result)
		}
		d.waitFor(func(m msg) bool { return m.Method == "thread/status/changed" })
	}
}

// A client that does not read is disconnected once its queue is full;
// another client on the same thread gets every message and its turn ends.
func TestWebSocketSlowClient(t *testing.T) {
	s := startWS(t, "")
	fast, slow := s.client(""), s.client("")
	fast.initialize()
	slow.initialize()
	r := mustResult(t, fast.call("thread/start", map[string]any{"approvalPolicy": "never", "cwd": t.TempDir()}))
	var res struct{ Thread struct{ ID string } }
	r.decode(t, &res)
	thread := res.Thread.ID
	mustResult(t, slow.call("thread/resume", map[string]any{"threadId": thread}))

	pauseReading(slow)
	// 400 chunks of 64 KiB at a pace a reading client keeps up with, more
	// than the slow client's socket buffers and queue hold.
	const chunks, chunk = 400, 65536
	startTurn(t, fast, thread, fmt.Sprintf("for i in $(seq %d); do head -c %d /dev/zero | tr '\\0' a; sleep 0.01; done", chunks, chunk))
	var bytesSeen int
	for {
		m := fast.next()
		if m.Method == "item/commandExecution/outputDelta" {
			var d struct{ Delta string }
			m.decode(t, &d)
			bytesSeen += len(d.Delta)
		}
		if turnCompleted(thread)(m) {
			break
		}
	}
	if bytesSeen != chunks*chunk {
		t.Errorf("fast client saw %d bytes of output, want %d", bytesSeen, chunks*chunk)
	}
	// The slow client was dropped: reading on, it finds the connection
	// closed after what was in flight, far short of the whole output.
	resumeReading(slow)
	var slowDeltas int
	for m := range slow.in {
		if m.Method == "item/commandExecution/outputDelta" {
			slowDeltas++
		}
	}
	t.Logf("slow client got %d output deltas before it was dropped", slowDeltas)
	if !strings.Contains(s.stderrText(), "outbound queue full") {
		t.Errorf("the server did not log the slow client's disconnect")
	}
}

// --listen off serves nothing and stops on SIGTERM like the others.
func TestListenOff(t *testing.T) {
	cmd := exec.Command(serverBin, "--home", t.TempDir(), "app-server", "--listen", "off")
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving nothing") {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no start line within 10s")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { <-logDone; exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no exit within 5s of SIGTERM")
	}
}

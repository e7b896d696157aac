package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"app-server/protocol"
)

// serverBin is the binary under test, built once by TestMain, with the race
// detector when the tests run with it. plainBin is built without it, for
// the tests that measure the server's memory.
var serverBin, plainBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "app-server-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	plainBin = filepath.Join(dir, "app-server")
	serverBin = plainBin
	builds := [][]string{{"build", "-o", plainBin, "app-server/cmd/app-server"}}
	if raceEnabled {
		serverBin = filepath.Join(dir, "app-server-race")
		builds = append(builds, []string{"build", "-race", "-o", serverBin, "app-server/cmd/app-server"})
	}
	for _, args := range builds {
		build := exec.Command("go", args...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building app-server:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	reportCodexValidation()
	os.RemoveAll(dir)
	os.Exit(code)
}

// msg is one JSON-RPC message as seen on the wire.
type msg struct {
	Raw    json.RawMessage `json:"-"`
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func (m msg) isResponse() bool { return m.Method == "" && len(m.ID) > 0 }
func (m msg) isRequest() bool  { return m.Method != "" && len(m.ID) > 0 }

// decode unmarshals the message's params into v.
func (m msg) decode(t *testing.T, v any) {
	t.Helper()
	src := m.Params
	if m.isResponse() {
		src = m.Result
	}
	if err := json.Unmarshal(src, v); err != nil {
		t.Fatalf("decoding %s: %v", m.Raw, err)
	}
}

// options configure one server process.
type options struct {
	config string   // config.toml contents
	args   []string // extra flags
	home   string   // reuse a home (restart tests); a new temp dir if empty
	cwd    string
	bin    string   // the binary; serverBin if empty
	env    []string // variables added to the server's environment
}

// server is a running app-server process and a recording client.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	home   string
	stderr *bytes.Buffer
	exited chan struct{}

	events chan msg // notifications and server requests, in order

	mu       sync.Mutex
	nextID   int
	waiting  map[string]chan msg // response channels by id
	methods  map[string]string   // method of each request we sent, by id
	recorded int                 // messages validated
}

func startServer(t *testing.T, o options) *server {
	t.Helper()
	if o.home == "" {
		o.home = t.TempDir()
	}
	if o.config != "" {
		if err := os.WriteFile(filepath.Join(o.home, "config.toml"), []byte(o.config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"--home", o.home, "--log-level", "debug"}, o.args...)
	bin := o.bin
	if bin == "" {
		bin = serverBin
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(withoutProxyVars(os.Environ()), o.env...)
	if o.cwd != "" {
		cmd.Dir = o.cwd
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{
		t: t, cmd: cmd, stdin: stdin, home: o.home, stderr: &bytes.Buffer{}, exited: make(chan struct{}),
		events: make(chan msg, 1<<16), waiting: make(map[string]chan msg), methods: make(map[string]string),
	}
	cmd.Stderr = &lockedWriter{w: s.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go s.readLoop(stdout)
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.stdin.Close()
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Errorf("server did not exit within 5s of stdin closing")
		}
		if strings.Contains(s.stderrText(), "WARNING: DATA RACE") {
			t.Errorf("the race detector found a race in the server")
		}
		if t.Failed() {
			t.Logf("server stderr:\n%s", s.stderrText())
		}
	})
	return s
}

// withoutProxyVars drops proxy variables the test machine may have, so the
// commands see only what the server gives them.
func withoutProxyVars(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToLower(name) {
		case "http_proxy", "https_proxy", "all_proxy", "no_proxy":
			continue
		}
		out = append(out, kv)
	}
	return out
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (s *server) stderrText() string {
	lw := s.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.String()
}

// waitForLog waits until the server's stderr contains text.
func (s *server) waitForLog(text string, limit time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(s.stderrText(), text) {
		if time.Now().After(deadline) {
			s.t.Fatalf("the server did not log %q within %v", text, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readLoop reads the server's stdout, validates each message and routes it.
func (s *server) readLoop(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		var m msg
		if err := json.Unmarshal(line, &m); err != nil {
			s.t.Errorf("server wrote a line that is not JSON: %q", line)
			continue
		}
		m.Raw = line
		if bytes.Contains(line, []byte(`"jsonrpc"`)) && bytes.HasPrefix(line, []byte(`{"jsonrpc"`)) {
			s.t.Errorf("server wrote the jsonrpc member: %s", line)
		}
		s.validateIncoming(m)
		if m.isResponse() {
			s.mu.Lock()
			ch := s.waiting[string(m.ID)]
			delete(s.waiting, string(m.ID))
			s.mu.Unlock()
			if ch == nil {
				s.t.Errorf("response to an id we did not send: %s", line)
				continue
			}
			ch <- m
			continue
		}
		s.events <- m
	}
	close(s.events)
}

// send writes a raw line to the server.
func (s *server) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		s.t.Fatalf("writing to the server: %v", err)
	}
}

// request sends a request and returns a channel for its response.
func (s *server) request(method string, params any) (id string, resp chan msg) {
	s.t.Helper()
	s.mu.Lock()
	s.nextID++
	id = fmt.Sprint(s.nextID)
	resp = make(chan msg, 1)
	s.waiting[id] = resp
	s.methods[id] = method
	s.mu.Unlock()
	// Without HTML escaping, as a client would write: a text of '<' stays
	// as long as it is.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"id": s.nextIDValue(id), "method": method, "params": params}); err != nil {
		s.t.Fatal(err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	s.validateOutgoing(b)
	s.send(string(b))
	return id, resp
}

func (s *server) nextIDValue(id string) json.RawMessage { return json.RawMessage(id) }

// call sends a request and waits for its response.
func (s *server) call(method string, params any) msg {
	s.t.Helper()
	_, ch := s.request(method, params)
	return s.await(ch)
}

func (s *server) await(ch chan msg) msg {
	s.t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(20 * time.Second):
		s.t.Fatalf("no response within 20s")
	}
	return msg{}
}

// ok calls and requires a successful response, decoding its result into v.
func (s *server) ok(method string, params, v any) msg {
	s.t.Helper()
	m := s.call(method, params)
	if m.Error != nil {
		s.t.Fatalf("%s failed: %d %s", method, m.Error.Code, m.Error.Message)
	}
	if v != nil {
		m.decode(s.t, v)
	}
	return m
}

// initialize performs the handshake.
func (s *server) initialize() protocol.InitializeResponse {
	s.t.Helper()
	var r protocol.InitializeResponse
	s.ok("initialize", map[string]any{"clientInfo": map[string]any{"name": "e2e", "version": "1.0"}}, &r)
	s.send(`{"method":"initialized"}`)
	return r
}

// next returns the next notification or server request.
func (s *server) next() msg {
	s.t.Helper()
	select {
	case m, ok := <-s.events:
		if !ok {
			s.t.Fatalf("server output ended")
		}
		return m
	case <-time.After(20 * time.Second):
		s.t.Fatalf("no message from the server within 20s")
	}
	return msg{}
}

// until returns the next event with the given method, collecting the
// methods of the events skipped on the way.
func (s *server) until(method string) (msg, []string) {
	s.t.Helper()
	var skipped []string
	for {
		m := s.next()
		if m.Method == method {
			return m, skipped
		}
		skipped = append(skipped, m.Method)
	}
}

// answer replies to a server request.
func (s *server) answer(req msg, result any) {
	s.t.Helper()
	b, err := json.Marshal(map[string]any{"id": req.ID, "result": result})
	if err != nil {
		s.t.Fatal(err)
	}
	s.send(string(b))
}

// --- schema validation -------------------------------------------------

var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
	schemaErr  error
)

const schemaDir = "../testdata/schema/json"

// schemaFor compiles (once) and returns the schema of a file in testdata.
func schemaFor(t *testing.T, file string) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		schemas = make(map[string]*jsonschema.Schema)
		c := jsonschema.NewCompiler()
		entries, err := os.ReadDir(schemaDir)
		if err != nil {
			schemaErr = err
			return
		}
		abs, _ := filepath.Abs(schemaDir)
		for _, e := range entries {
			f, err := os.Open(filepath.Join(schemaDir, e.Name()))
			if err != nil {
				schemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(f)
			f.Close()
			if err != nil {
				schemaErr = fmt.Errorf("%s: %w", e.Name(), err)
				return
			}
			if err := c.AddResource("file://"+filepath.Join(abs, e.Name()), doc); err != nil {
				schemaErr = err
				return
			}
		}
		for _, e := range entries {
			sch, err := c.Compile("file://" + filepath.Join(abs, e.Name()))
			if err != nil {
				schemaErr = fmt.Errorf("%s: %w", e.Name(), err)
				return
			}
			schemas[e.Name()] = sch
		}
	})
	if schemaErr != nil {
		t.Fatalf("loading schemas: %v", schemaErr)
	}
	sch := schemas[file]
	if sch == nil {
		t.Fatalf("no schema file %s", file)
	}
	return sch
}

func (s *server) validate(file string, raw []byte, what string) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		s.t.Errorf("%s: %v", what, err)
		return
	}
	if err := schemaFor(s.t, file).Validate(v); err != nil {
		s.t.Errorf("%s does not validate against %s: %v\nmessage: %s", what, file, err, raw)
		return
	}
	s.mu.Lock()
	s.recorded++
	s.mu.Unlock()
}

// validateIncoming checks a server message against the generated schema.
func (s *server) validateIncoming(m msg) {
	s.validateIncomingCodex(m)
	switch {
	case m.isRequest():
		s.validate("ServerRequest.json", m.Raw, "server request "+m.Method)
	case m.Method != "":
		s.validate("ServerNotification.json", m.Raw, "notification "+m.Method)
	case m.Error != nil:
		s.validate("JSONRPCError.json", m.Raw, "error response")
	default:
		s.mu.Lock()
		method := s.methods[string(m.ID)]
		s.mu.Unlock()
		if md, ok := protocol.LookupMethod(method); ok && md.Result != nil {
			s.validate(md.Result.Name()+".json", m.Result, "result of "+method)
		}
	}
}

// validateOutgoing checks a request we send against ClientRequest.json.
func (s *server) validateOutgoing(b []byte) {
	var probe struct{ Method string }
	json.Unmarshal(b, &probe)
	if strings.HasPrefix(probe.Method, "bogus") {
		return
	}
	s.validate("ClientRequest.json", b, "client request "+probe.Method)
	s.validateOutgoingCodex(b)
}

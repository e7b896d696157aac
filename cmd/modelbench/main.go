// Command modelbench measures a model-driven turn (MODEL.md): the time from
// turn/start to turn/completed for a turn in which the model calls one
// command tool, the client answers the command's approval at once, and the
// model then answers with a message. Both servers talk to the same scripted
// mock Responses server (model/responsestest) in the same run, configured
// through the same [model_providers.mock] block of their config.toml.
//
//	modelbench --server bin/app-server [--codex PATH] [--turns 30] [--out docs/BENCHMARKS.md]
//
// Besides the turn time it splits the gap between the mock's last byte of
// the first response and the server's second request into the server's
// share (stream end to approval request, command item completed to next
// request) and the rest (the client's answer and the command's run).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"app-server/cmd/internal/benchfmt"
	"app-server/model/responsestest"
)

func main() {
	var (
		server = flag.String("server", "", "path of the app-server binary (required)")
		codex  = flag.String("codex", "", "path of the codex binary to compare with (run as \"codex app-server\"); optional")
		turns  = flag.Int("turns", 30, "measured turns per server (after 3 warm-up turns)")
		out    = flag.String("out", "", "markdown file to update between the model-bench markers (other text is kept)")
		dump   = flag.Bool("v", false, "log every message of the first turn")
	)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("modelbench: ")
	if *server == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	// The servers run in a scratch directory: make the paths absolute.
	for _, p := range []*string{server, codex} {
		if *p != "" && strings.Contains(*p, "/") {
			abs, err := filepath.Abs(*p)
			if err != nil {
				log.Fatal(err)
			}
			*p = abs
		}
	}
	mock := responsestest.New()
	defer mock.Close()
	b := &bench{mock: mock, dump: *dump}
	mock.Responder = b.respond

	targets := []*target{{name: "app-server", argv: []string{*server}, homeVar: "APP_SERVER_HOME"}}
	if *codex != "" {
		targets = append(targets, &target{name: "codex", argv: []string{*codex, "app-server"}, homeVar: "CODEX_HOME"})
	}
	var results []*result
	for _, t := range targets {
		r, err := b.run(t, *turns)
		if err != nil {
			log.Fatalf("%s: %v", t.name, err)
		}
		results = append(results, r)
		fmt.Print(r.summary())
		fmt.Printf("  mock connections so far: %d\n", mock.Conns())
	}
	if *out != "" {
		if err := benchfmt.WriteSection(*out, startMarker, endMarker, markdown(results, *turns)); err != nil {
			log.Fatal(err)
		}
	}
}

// target is a server to measure.
type target struct {
	name    string
	argv    []string
	homeVar string // its home directory variable
}

// bench scripts the mock: every request whose input ends with a user
// message gets a command call; every other request (the tool's output has
// come back) gets the final message.
type bench struct {
	mock *responsestest.Server
	dump bool

	mu    sync.Mutex
	calls int
}

const benchCommand = "touch modelbench.txt"

func (b *bench) respond(r *responsestest.Recorded) responsestest.Reply {
	input := r.Input()
	last := map[string]any{}
	if len(input) > 0 {
		last = input[len(input)-1]
	}
	if last["type"] == "message" {
		b.mu.Lock()
		b.calls++
		id := fmt.Sprintf("call_%d", b.calls)
		b.mu.Unlock()
		// Call the command tool the server advertises: exec_command (ours
		// and Codex's unified exec), else Codex's shell tool.
		name, args := "exec_command", fmt.Sprintf(`{"cmd":%q}`, benchCommand)
		if !advertises(r, "exec_command") && advertises(r, "shell") {
			name, args = "shell", fmt.Sprintf(`{"command":["bash","-lc",%q]}`, benchCommand)
		}
		return responsestest.Response("resp_"+id, responsestest.FunctionCall(id, name, args))
	}
	return responsestest.Response("resp_final", responsestest.Message("msg_final", "Done."))
}

func advertises(r *responsestest.Recorded, tool string) bool {
	var body struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	json.Unmarshal(r.Body, &body)
	return slices.ContainsFunc(body.Tools, func(t struct {
		Name string `json:"name"`
	}) bool {
		return t.Name == tool
	})
}

// result is one server's figures.
type result struct {
	name      string
	userAgent string
	turn      []time.Duration // turn/start sent to turn/completed read
	gap       []time.Duration // mock's last byte of response 1 to request 2
	server    []time.Duration // the server's share of gap
	toPrompt  []time.Duration // mock's last byte of response 1 to the approval request read
	toNext    []time.Duration // command item completed read to request 2
	final     []time.Duration // mock's last byte of response 2 to turn/completed read
}

func (r *result) summary() string {
	return fmt.Sprintf("%s: turn p50 %s (p90 %s); first response end to next request p50 %s, server share p50 %s (to prompt %s, command done to request %s); final response end to turn/completed p50 %s\n",
		r.name, ms(pct(r.turn, 50)), ms(pct(r.turn, 90)), ms(pct(r.gap, 50)), us(pct(r.server, 50)), us(pct(r.toPrompt, 50)), us(pct(r.toNext, 50)), us(pct(r.final, 50)))
}

func (b *bench) run(t *target, turns int) (*result, error) {
	home, err := os.MkdirTemp("", "modelbench-home-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	work := filepath.Join(home, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		return nil, err
	}
	// The same provider block for both; Codex needs the key's variable set.
	config := fmt.Sprintf(`model = "mock-model"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = %q
env_key = "MODELBENCH_MOCK_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
`, b.mock.BaseURL())
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(config), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(t.argv[0], t.argv[1:]...)
	cmd.Env = append(os.Environ(), t.homeVar+"="+home, "MODELBENCH_MOCK_KEY=mock-key")
	cmd.Dir = work
	srv, err := benchfmt.Start(cmd, 0)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	stderr := srv.Stderr
	c := &client{w: bufio.NewWriter(srv.Stdin), r: bufio.NewReaderSize(srv.Stdout, 1<<20), dump: b.dump}
	fail := func(err error) (*result, error) {
		return nil, fmt.Errorf("%v; stderr tail:\n%s", err, stderr)
	}

	res := &result{name: t.name}
	init, err := c.call("initialize", `{"clientInfo":{"name":"modelbench","title":"modelbench","version":"1.0.0"}}`)
	if err != nil {
		return fail(err)
	}
	var ir struct {
		UserAgent string `json:"userAgent"`
	}
	json.Unmarshal(init.Result, &ir)
	res.userAgent = ir.UserAgent
	if err := c.notify("initialized", `{}`); err != nil {
		return fail(err)
	}
	ts, err := c.call("thread/start", fmt.Sprintf(`{"cwd":%q,"approvalPolicy":"untrusted","sandbox":"workspace-write"}`, work))
	if err != nil {
		return fail(err)
	}
	var tr struct {
		Thread struct {
			ID string `json:"id"`
		} `json:"thread"`
		Model string `json:"model"`
	}
	json.Unmarshal(ts.Result, &tr)
	if tr.Model != "mock-model" {
		return fail(fmt.Errorf("thread/start reports model %q, want mock-model: the config was not read", tr.Model))
	}
	for i := range turns + 3 {
		tm, err := b.turn(c, tr.Thread.ID)
		if err != nil {
			return fail(fmt.Errorf("turn %d: %w", i, err))
		}
		c.dump = false
		if i < 3 {
			continue
		}
		res.turn = append(res.turn, tm.turn)
		res.gap = append(res.gap, tm.gap)
		res.server = append(res.server, tm.server)
		res.toPrompt = append(res.toPrompt, tm.toPrompt)
		res.toNext = append(res.toNext, tm.toNext)
		res.final = append(res.final, tm.final)
	}
	return res, nil
}

// turnTimes are one turn's figures.
type turnTimes struct{ turn, gap, server, toPrompt, toNext, final time.Duration }

// turn runs one turn: start, answer the command approval at once, wait for
// turn/completed.
func (b *bench) turn(c *client, threadID string) (turnTimes, error) {
	before := len(b.mock.Requests())
	start := time.Now()
	if _, err := c.call("turn/start", fmt.Sprintf(`{"threadId":%q,"input":[{"type":"text","text":"create modelbench.txt"}]}`, threadID)); err != nil {
		return turnTimes{}, err
	}
	var approvalAt, commandDoneAt, completedAt time.Time
	approvals := 0
	for completedAt.IsZero() {
		m, at, err := c.read()
		if err != nil {
			return turnTimes{}, err
		}
		switch m.Method {
		case "item/commandExecution/requestApproval", "execCommandApproval":
			approvals++
			approvalAt = at
			if err := c.reply(m.ID, `{"decision":"accept"}`); err != nil {
				return turnTimes{}, err
			}
		case "item/completed":
			var p struct {
				Item struct {
					Type   string `json:"type"`
					Status string `json:"status"`
				} `json:"item"`
			}
			json.Unmarshal(m.Params, &p)
			if p.Item.Type == "commandExecution" {
				commandDoneAt = at
				if p.Item.Status != "completed" {
					return turnTimes{}, fmt.Errorf("the command item ended %s", p.Item.Status)
				}
			}
		case "turn/completed":
			completedAt = at
			var p struct {
				Turn struct {
					Status string `json:"status"`
				} `json:"turn"`
			}
			json.Unmarshal(m.Params, &p)
			if p.Turn.Status != "completed" {
				return turnTimes{}, fmt.Errorf("turn ended %s: %s", p.Turn.Status, m.Params)
			}
		case "error":
			return turnTimes{}, fmt.Errorf("error notification: %s", m.Params)
		}
	}
	reqs := b.mock.Requests()[before:]
	if len(reqs) != 2 || approvals != 1 || commandDoneAt.IsZero() {
		return turnTimes{}, fmt.Errorf("%d model requests, %d approvals, command item completed: %v; want 2, 1, true", len(reqs), approvals, !commandDoneAt.IsZero())
	}
	first, second := reqs[0], reqs[1]
	t := turnTimes{
		turn:  completedAt.Sub(start),
		gap:   second.At.Sub(first.ReplyDone),
		final: completedAt.Sub(second.ReplyDone),
	}
	t.toPrompt, t.toNext = approvalAt.Sub(first.ReplyDone), second.At.Sub(commandDoneAt)
	t.server = t.toPrompt + t.toNext
	return t, nil
}

// client speaks JSONL JSON-RPC over the server's pipes.
type client struct {
	w      *bufio.Writer
	r      *bufio.Reader
	nextID int
	dump   bool
}

type message = benchfmt.Message

func (c *client) write(line string) error {
	if c.dump {
		log.Printf("-> %s", line)
	}
	if _, err := c.w.WriteString(line + "\n"); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *client) notify(method, params string) error {
	return c.write(fmt.Sprintf(`{"method":%q,"params":%s}`, method, params))
}

func (c *client) reply(id json.RawMessage, result string) error {
	return c.write(fmt.Sprintf(`{"id":%s,"result":%s}`, id, result))
}

// read returns the next message and when it was read.
func (c *client) read() (*message, time.Time, error) {
	line, err := c.r.ReadBytes('\n')
	at := time.Now()
	if err != nil {
		return nil, at, fmt.Errorf("reading from the server: %w", err)
	}
	if c.dump {
		log.Printf("<- %s", strings.TrimSpace(string(line)))
	}
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, at, fmt.Errorf("bad line %q: %v", line, err)
	}
	return &m, at, nil
}

// call sends a request and reads until its response (notifications on the
// way are dropped).
func (c *client) call(method, params string) (*message, error) {
	id := c.nextID
	c.nextID++
	if err := c.write(fmt.Sprintf(`{"id":%d,"method":%q,"params":%s}`, id, method, params)); err != nil {
		return nil, err
	}
	for {
		m, _, err := c.read()
		if err != nil {
			return nil, err
		}
		if m.Method == "" && string(m.ID) == fmt.Sprint(id) {
			if m.Error != nil {
				return nil, fmt.Errorf("%s: error %d %s", method, m.Error.Code, m.Error.Message)
			}
			return m, nil
		}
	}
}

var pct, ms, us = benchfmt.Percentile[time.Duration], benchfmt.MS, benchfmt.US

const (
	startMarker = "<!-- model-bench:start -->"
	endMarker   = "<!-- model-bench:end -->"
)

func markdown(rs []*result, turns int) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Model-driven turn (issue 12)\n\n")
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	p("Measured by `make bench-model` (`cmd/modelbench`) on %s, %d CPUs (load average %s at the end), %s; %d turns per server after 3 warm-up turns, one thread each, against one mock Responses server in the same process as the client.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), load, runtime.Version(), turns)
	table := benchfmt.Table(&b, rs, func(r *result) string { return r.name }, "figure (p50 unless noted)")
	row := func(name string, f func(*result) string) { table(f, name) }
	row("user agent", func(r *result) string { return "`" + r.userAgent + "`" })
	row("turn/start to turn/completed", func(r *result) string { return ms(pct(r.turn, 50)) })
	row("… p90", func(r *result) string { return ms(pct(r.turn, 90)) })
	row("mock's last byte of response 1 to request 2", func(r *result) string { return ms(pct(r.gap, 50)) })
	row("… the server's share (stream end to approval request, command item completed to request 2)", func(r *result) string { return us(pct(r.server, 50)) })
	row("… … of which: response 1's last byte to the approval request", func(r *result) string { return us(pct(r.toPrompt, 50)) })
	row("… … of which: command item completed to request 2", func(r *result) string { return us(pct(r.toNext, 50)) })
	row("mock's last byte of response 2 to turn/completed", func(r *result) string { return us(pct(r.final, 50)) })
	if len(rs) == 2 {
		ratio := float64(pct(rs[0].turn, 50)) / float64(pct(rs[1].turn, 50))
		p("\nTurn time ours/Codex: %.3f (target ≤ 1/3: %s).", ratio, benchfmt.Verdict(ratio <= 1.0/3, "yes", "no"))
	}
	share := pct(rs[0].server, 50)
	p(" Server share of the gap, ours: %s (target < 1 ms: %s).\n", us(share), benchfmt.Verdict(share < time.Millisecond, "yes", "no"))
	return b.String()
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"app-server/cmd/internal/benchfmt"
)

// The WebSocket figures: the same sequential and pipelined measurements as
// on stdio, over `app-server --listen ws://127.0.0.1:0` (ours and Codex's
// listener), one JSON-RPC message per text frame, with a
// github.com/coder/websocket client.

// wsResult holds one server's WebSocket figures.
type wsResult struct {
	name   string
	seqLat []time.Duration
	pipe   pipeResult
}

// wsProc is a server listening on WebSocket, and one client connected to it.
type wsProc struct {
	cmd    *exec.Cmd
	home   string
	c      *websocket.Conn
	nextID int
	stderr *benchfmt.Tail
}

// startWS starts t on a WebSocket listener on 127.0.0.1, connects and
// initializes.
func startWS(t *target) (*wsProc, error) {
	home, err := os.MkdirTemp("", "appbench-ws-")
	if err != nil {
		return nil, err
	}
	p := &wsProc{home: home, stderr: &benchfmt.Tail{}}
	argv := append(append([]string{}, t.argv...), "--listen", "ws://127.0.0.1:0")
	if t.name != "codex" {
		argv = append(argv[:1], append([]string{"app-server"}, argv[1:]...)...)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), t.env(home)...)
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		found := false
		for sc.Scan() {
			fmt.Fprintln(p.stderr, sc.Text())
			if a, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "listening on: ws://"); ok && !found {
				found = true
				addrc <- a
			}
		}
		io.Copy(io.Discard, errPipe)
		close(addrc)
	}()
	var addr string
	select {
	case a, ok := <-addrc:
		if !ok {
			p.stop()
			return nil, fmt.Errorf("%s exited without listening; stderr:\n%s", t.name, p.stderr)
		}
		addr = a
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not print a listening address in 30s; stderr:\n%s", t.name, p.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr, nil)
	if err != nil {
		p.stop()
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	p.c = c
	if _, err := p.roundTrip("initialize", `{"clientInfo":{"name":"appbench","version":"1"}}`); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s initialize: %w", t.name, err)
	}
	if err := c.Write(context.Background(), websocket.MessageText, []byte(`{"method":"initialized"}`)); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *wsProc) stop() {
	if p.c != nil {
		p.c.CloseNow()
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	os.RemoveAll(p.home)
}

func (p *wsProc) send(method, params string) (int, error) {
	id := p.nextID
	p.nextID++
	msg := fmt.Sprintf(`{"id":%d,"method":%q,"params":%s}`, id, method, params)
	return id, p.c.Write(context.Background(), websocket.MessageText, []byte(msg))
}

// readResponse reads frames until the response to id.
func (p *wsProc) readResponse(id int) (*message, error) {
	for {
		_, b, err := p.c.Read(context.Background())
		if err != nil {
			return nil, err
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("bad frame: %v: %q", err, b)
		}
		if m.Method == "" && string(m.ID) == strconv.Itoa(id) {
			return &m, nil
		}
	}
}

func (p *wsProc) roundTrip(method, params string) (*message, error) {
	id, err := p.send(method, params)
	if err != nil {
		return nil, err
	}
	return p.readResponse(id)
}

// sequential sends n requests one at a time.
func (p *wsProc) sequential(n int) ([]time.Duration, error) {
	lat := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := p.roundTrip(benchMethod, benchParams); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, nil
}

// pipelined writes n requests with at most window in flight while reading
// the responses.
func (p *wsProc) pipelined(n, window int) (pipeResult, error) {
	res := pipeResult{n: n, errs: make(map[int]int)}
	first := p.nextID
	p.nextID += n
	tokens := make(chan struct{}, window)
	writeErr := make(chan error, 1)
	t0 := time.Now()
	go func() {
		for i := range n {
			tokens <- struct{}{}
			msg := fmt.Sprintf(`{"id":%d,"method":%q,"params":%s}`, first+i, benchMethod, benchParams)
			if err := p.c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for res.answered < n {
		_, b, err := p.c.Read(ctx)
		if err != nil {
			return res, fmt.Errorf("pipelined: %d of %d responses: %w", res.answered, n, err)
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			return res, fmt.Errorf("bad frame: %v: %q", err, b)
		}
		if m.Method != "" || m.ID == nil {
			continue
		}
		res.answered++
		if m.Error != nil {
			res.errs[m.Error.Code]++
		}
		<-tokens
	}
	res.elapsed = time.Since(t0)
	return res, <-writeErr
}

// measureWebSocket measures every target over WebSocket, in turns.
func measureWebSocket(targets []*target, cfg config) ([]*wsResult, error) {
	var out []*wsResult
	for _, t := range targets {
		p, err := startWS(t)
		if err != nil {
			return nil, err
		}
		r := &wsResult{name: t.name}
		if r.seqLat, err = p.sequential(cfg.seq); err == nil {
			r.pipe, err = p.pipelined(cfg.pipelined, pipelineWindow)
		}
		p.stop()
		if err != nil {
			return nil, fmt.Errorf("%s over WebSocket: %w; stderr tail:\n%s", t.name, err, p.stderr)
		}
		out = append(out, r)
	}
	return out, nil
}

// wsMarkdown renders the WebSocket section: WebSocket figures next to the
// stdio ones of the same run, and ours/codex over WebSocket.
func wsMarkdown(m machine, cfg config, stdio []*result, ws []*wsResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Generated by `make bench` (cmd/appbench) on %s, in the same run as the stdio figures above: the servers serve `--listen ws://127.0.0.1:0`, one JSON-RPC message per text frame, a github.com/coder/websocket client.\n\n", m.date)
	b.WriteString("| figure | transport |")
	for _, r := range ws {
		fmt.Fprintf(&b, " %s |", r.name)
	}
	b.WriteString("\n|---|---|")
	for range ws {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	row := func(name, transport string, f func(i int) string) {
		fmt.Fprintf(&b, "| %s | %s |", name, transport)
		for i := range ws {
			fmt.Fprintf(&b, " %s |", f(i))
		}
		b.WriteString("\n")
	}
	seq := fmt.Sprintf("sequential `%s` p50 (%d round trips)", benchMethod, cfg.seq)
	row(seq, "WebSocket", func(i int) string { return us(benchfmt.Percentile(ws[i].seqLat, 50)) })
	row(seq, "stdio", func(i int) string { return us(stdio[i].seqP50()) })
	pipe := fmt.Sprintf("pipelined, %d requests, at most %d in flight", cfg.pipelined, pipelineWindow)
	row(pipe, "WebSocket", func(i int) string { return fmt.Sprintf("%.0f req/s", ws[i].pipe.throughput()) })
	row(pipe, "stdio", func(i int) string { return fmt.Sprintf("%.0f req/s", stdio[i].pipeWindow.throughput()) })
	row("… WebSocket error responses", "WebSocket", func(i int) string { return pipeErrors(ws[i].pipe) })
	if len(ws) == 2 {
		p50 := benchfmt.Percentile(ws[0].seqLat, 50).Seconds() / benchfmt.Percentile(ws[1].seqLat, 50).Seconds()
		tput := ws[0].pipe.throughput() / ws[1].pipe.throughput()
		fmt.Fprintf(&b, "\n| target over WebSocket (ours/codex) | ratio | target | met |\n|---|---:|---|---|\n")
		fmt.Fprintf(&b, "| sequential p50 | %.3f | ≤ 1/4 | %s |\n", p50, yesNo(p50 <= 0.25))
		fmt.Fprintf(&b, "| pipelined throughput (window %d) | %.3f | ≥ 3× | %s |\n", pipelineWindow, tput, yesNo(tput >= 3))
	} else {
		b.WriteString("\nCodex was not measured in this run (`make bench-codex` installs it and compares).\n")
	}
	return b.String()
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// Markers of the WebSocket section.
const (
	wsBeginMarker = "<!-- appbench-websocket:begin (generated by make bench; edits inside are overwritten) -->"
	wsEndMarker   = "<!-- appbench-websocket:end -->"
)

//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strings"
	"time"

	"app-server/cmd/internal/benchfmt"
)

// The server rows: `true` run by the app-server binary as its client sees
// it, one command/exec request at a time over stdio, timed from writing
// the request to reading its response.

// execPolicies are the sandboxPolicy of the server rows, unsandboxed
// first, named by their type; every member of a policy is required
// (protocol.SandboxPolicy).
var execPolicies = []struct{ name, json string }{
	{"dangerFullAccess", `{"type":"dangerFullAccess"}`},
	{"workspaceWrite", `{"type":"workspaceWrite","writableRoots":[],"networkAccess":false,"excludeTmpdirEnvVar":false,"excludeSlashTmp":false}`},
	{"readOnly", `{"type":"readOnly","networkAccess":false}`},
}

// appServer is an app-server process serving JSON-RPC on its stdin and
// stdout, with a home of its own (a temporary directory, so that the
// user's is never touched), initialized.
type appServer struct {
	*benchfmt.Server
	*benchfmt.Client
	home string
}

// startAppServer starts bin as a stdio server and performs the
// handshake. Its working directory is the bench's, the workspace of the
// bench's own sandbox rows; its configuration is the default one (the
// managed network proxy on, so sandboxed commands get the proxy relay).
func startAppServer(bin string) (*appServer, error) {
	home, err := os.MkdirTemp("", "sandboxbench-home-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--home", home, "--log-level", "error")
	srv, err := benchfmt.Start(cmd, 0)
	if err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	s := &appServer{Server: srv, home: home, Client: &benchfmt.Client{
		W: bufio.NewWriter(srv.Stdin), R: bufio.NewReader(srv.Stdout), Stderr: srv.Stderr,
	}}
	if _, err := s.Initialize("sandboxbench"); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// stop ends the server (stdin EOF) and removes its home.
func (s *appServer) stop() {
	defer os.RemoveAll(s.home)
	if err := s.Stop(); err != nil {
		log.Printf("sandboxbench: app-server: %v", err)
	}
}

// call sends a request and returns its result; an error response is a
// failure of the bench.
func (s *appServer) call(method, params string) json.RawMessage {
	m, err := s.Call(method, params)
	if err != nil {
		log.Fatalf("sandboxbench: app-server %s: %v", method, err)
	}
	if m.Error != nil {
		log.Fatalf("sandboxbench: app-server %s: error %d %s; stderr tail:\n%s", method, m.Error.Code, m.Error.Message, s.Server.Stderr)
	}
	return m.Result
}

// exec times one command/exec of /bin/true under policy, from writing the
// request to reading the response, which must report exit code 0.
func (s *appServer) exec(policy string) time.Duration {
	began := time.Now()
	res := s.call("command/exec", `{"command":["/bin/true"],"sandboxPolicy":`+policy+`}`)
	d := time.Since(began)
	var r struct {
		ExitCode int `json:"exitCode"`
	}
	if err := json.Unmarshal(res, &r); err != nil || r.ExitCode != 0 {
		log.Fatalf("sandboxbench: app-server command/exec under %s: %s", policy, res)
	}
	return d
}

// serverVariants starts the server whose rows join the bench's
// interleaved rounds (stopped by the returned func) and returns one
// variant per execPolicies entry. Each policy runs once untimed first:
// the first sandboxed command/exec of a server that opened no thread
// finds no spare helper and waits for one started for it (firstCommands
// measures that).
func serverVariants(bin string) ([]variant, func()) {
	s, err := startAppServer(bin)
	if err != nil {
		log.Fatalf("sandboxbench: app-server: %v", err)
	}
	vs := make([]variant, len(execPolicies))
	for i, p := range execPolicies {
		s.exec(p.json)
		vs[i] = variant{name: "app-server command/exec, " + p.name, timed: func() time.Duration { return s.exec(p.json) }}
	}
	return vs, s.stop
}

// serverTable writes the server rows' table: times are the rounds' times
// of the bench's unsandboxed `true`, bwrap, then the server rows in
// execPolicies order.
func serverTable(b *strings.Builder, runs int, trueT, bwrapT []time.Duration, serverT [][]time.Duration) {
	pct := benchfmt.Percentile[time.Duration]
	base, unsandboxed := pct(trueT, 50), pct(serverT[0], 50)
	bwrapOver := pct(bwrapT, 50) - base
	fmt.Fprintf(b, "### 1b. Through the server: `command/exec` of `/bin/true`, %d requests each, in the same rounds as table 1\n\n", runs)
	fmt.Fprintf(b, "The app-server binary serving stdio with a temporary home and its default configuration (the managed network proxy on: sandboxed commands get the proxy relay), one request at a time, timed from writing the request to reading the response. "+
		"The sandboxed rows run on the server's spare helper, reused command after command; the rows are %d ms apart, as in table 1. "+
		"Each policy ran once untimed before the rounds: the server opened no thread, so nothing started a spare before its first sandboxed command, which waited for one started for it (see the first-command figures below).\n\n", rowPause.Milliseconds())
	b.WriteString("| variant | p50 | p90 | p50 minus the server's unsandboxed | / bubblewrap's overhead |\n|---|---|---|---|---|\n")
	fmt.Fprintf(b, "| `true` unsandboxed (bench process, table 1) | %s | %s | | |\n", ms(base), ms(pct(trueT, 90)))
	fmt.Fprintf(b, "| bwrap (table 1) | %s | %s | %s (over `true` unsandboxed) | 1 |\n", ms(pct(bwrapT, 50)), ms(pct(bwrapT, 90)), ms(bwrapOver))
	for i, p := range execPolicies {
		over, ratio := "", ""
		if i > 0 {
			d := pct(serverT[i], 50) - unsandboxed
			over, ratio = ms(d), fmt.Sprintf("%.2f", float64(d)/float64(bwrapOver))
		}
		fmt.Fprintf(b, "| app-server `command/exec`, `%s` | %s | %s | %s | %s |\n", p.name, ms(pct(serverT[i], 50)), ms(pct(serverT[i], 90)), over, ratio)
	}
	fmt.Fprintf(b, "\nThe server's own cost of a `command/exec` round trip (its unsandboxed p50 minus the bench's `true`): %s.\n\n", ms(unsandboxed-base))
}

// firstCommands measures, on n fresh servers of each case taken in turn,
// the first sandboxed (workspaceWrite) command/exec of a server: one that
// opened no thread, one right after thread/start of a workspace-write
// thread (which started the spare helper in the background), and one
// after thread/start and firstIdle of client silence.
func firstCommands(b *strings.Builder, bin string, n int) {
	ww := execPolicies[1].json
	cases := []struct {
		name   string
		thread bool
		idle   time.Duration
	}{
		{"no thread", false, 0},
		{"right after `thread/start`", true, 0},
		{fmt.Sprintf("`thread/start`, then %d ms idle", firstIdle.Milliseconds()), true, firstIdle},
	}
	threadT := make([][]time.Duration, len(cases))
	first := make([][]time.Duration, len(cases))
	for range n {
		for i, c := range cases {
			s, err := startAppServer(bin)
			if err != nil {
				log.Fatalf("sandboxbench: app-server: %v", err)
			}
			if c.thread {
				began := time.Now()
				s.call("thread/start", `{"sandbox":"workspace-write","ephemeral":true}`)
				threadT[i] = append(threadT[i], time.Since(began))
				time.Sleep(c.idle) // the client's silence is the case measured
			}
			first[i] = append(first[i], s.exec(ww))
			s.stop()
		}
	}
	pct := benchfmt.Percentile[time.Duration]
	fmt.Fprintf(b, "First sandboxed command of a server (`command/exec`, workspaceWrite), %d fresh servers per case, after the rounds above. "+
		"The server probes what the kernel enforces (one cold helper run) the first time a sandboxed mode is used: at `thread/start` of a sandboxed thread, else at the first sandboxed command; "+
		"it starts its spare helper when a sandboxed thread opens, else at the first sandboxed command, which then waits for it; it opens the proxy's Unix sockets at the first sandboxed command.\n\n", n)
	b.WriteString("| case | `thread/start` p50 | first command p50 | p90 |\n|---|---|---|---|\n")
	for i, c := range cases {
		ts := ""
		if c.thread {
			ts = ms(pct(threadT[i], 50))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", c.name, ts, ms(pct(first[i], 50)), ms(pct(first[i], 90)))
	}
	b.WriteString("\n")
}

// firstIdle is how long the client is silent between thread/start and
// its first command in the last first-command case: long enough for the
// spare started at thread/start to be ready, short of a model's reply.
const firstIdle = 100 * time.Millisecond

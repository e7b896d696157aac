// Command appbench measures an app-server binary as a client sees it: a
// real process spoken to over pipes. Optionally it measures the Codex
// reference server (codex app-server) with the same client in the same run
// and prints the ratios against our targets.
//
// Figures:
//   - start: spawn to initialize reply, median of --spawns processes;
//   - RSS: VmRSS of the process 100 ms after the handshake (median over the
//     spawns);
//   - sequential: thread/loaded/list round trips one at a time, p50/p99;
//   - pipelined: thread/loaded/list requests written while the responses
//     are read concurrently, responses per second: once with at most 100
//     in flight (the compared figure; the Codex server sheds requests
//     beyond a queue of 128), once with all written without waiting
//     (responses that never come are counted after 3 s of silence);
//   - over WebSocket (websocket.go): sequential p50 and pipelined (window
//     100) against each server's --listen ws://127.0.0.1:0, in their own
//     section of the --out file.
//
// With --codex the two servers take turns within each measurement, so that
// both see the same load. Error responses count as round trips (a server that does not serve the
// method yet answers -32601); how many there were is reported.
//
// Usage:
//
//	appbench --server bin/app-server [--codex PATH] [--out docs/BENCHMARKS.md]
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"app-server/cmd/internal/benchfmt"
)

func main() {
	var (
		server    = flag.String("server", "", "path of the app-server binary to measure (required)")
		codex     = flag.String("codex", "", "path of the codex binary to compare with (run as \"codex app-server\"); optional")
		out       = flag.String("out", "", "markdown file to write the results to, between appbench markers (kept text around them survives)")
		spawns    = flag.Int("spawns", 20, "processes to spawn for the start and RSS figures")
		seq       = flag.Int("seq", 2000, "sequential round trips")
		pipelined = flag.Int("pipelined", 20000, "pipelined requests")
	)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("appbench: ")
	if *server == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: appbench --server PATH [--codex PATH] [--out FILE] [--spawns N] [--seq N] [--pipelined N]")
		os.Exit(2)
	}
	cfg := config{spawns: *spawns, seq: *seq, pipelined: *pipelined}

	targets := []*target{ourServer(*server)}
	if *codex != "" {
		targets = append(targets, codexServer(*codex))
	}
	for _, t := range targets {
		fmt.Printf("%s: %s\n", t.name, strings.Join(t.argv, " "))
	}
	results, err := measure(targets, cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Printf("== %s\n", r.name)
		r.print(os.Stdout)
	}
	var cmp []check
	if len(results) == 2 {
		cmp = compare(results[0], results[1])
		fmt.Println("== ours/codex")
		for _, c := range cmp {
			fmt.Printf("%-34s %s\n", c.name, c.verdict())
		}
	}
	wsResults, err := measureWebSocket(targets, cfg)
	if err != nil {
		log.Fatal(err)
	}
	for i, r := range wsResults {
		fmt.Printf("== %s over WebSocket\nsequential p50 %s (stdio %s)\npipelined %s (stdio %.0f responses/s)\n",
			r.name, us(benchfmt.Percentile(r.seqLat, 50)), us(results[i].seqP50()), r.pipe, results[i].pipeWindow.throughput())
	}
	if *out != "" {
		m := machineInfo()
		if err := benchfmt.WriteSection(*out, beginMarker, endMarker, markdown(m, cfg, results, cmp)); err != nil {
			log.Fatal(err)
		}
		if err := benchfmt.WriteSection(*out, wsBeginMarker, wsEndMarker, wsMarkdown(m, cfg, results, wsResults)); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("wrote %s\n", *out)
	}
}

// config is the size of each measurement.
type config struct {
	spawns, seq, pipelined int
}

// target is a server to measure.
type target struct {
	name string
	argv []string
	// env returns extra environment for one process, given a fresh
	// temporary directory it may use as its home.
	env func(home string) []string
}

func ourServer(path string) *target {
	return &target{
		name: "app-server",
		argv: []string{path, "--log-level", "error"},
		env:  func(home string) []string { return []string{"APP_SERVER_HOME=" + home} },
	}
}

func codexServer(path string) *target {
	return &target{
		name: "codex",
		argv: []string{path, "app-server"},
		env:  func(home string) []string { return []string{"CODEX_HOME=" + home} },
	}
}

// result holds the figures of one target.
type result struct {
	name       string
	starts     []time.Duration // spawn to initialize reply, one per spawn
	rss        []int64         // VmRSS in bytes after initialize, one per spawn
	seqLat     []time.Duration // sequential round trips
	seqErrors  map[int]int     // error code -> count
	pipeWindow pipeResult      // pipelined with a bounded window
	pipeAll    pipeResult      // pipelined, all written without waiting
	userAgent  string
}

func (r *result) startMedian() time.Duration { return benchfmt.Percentile(r.starts, 50) }
func (r *result) rssMedian() int64           { return benchfmt.Percentile(r.rss, 50) }
func (r *result) seqP50() time.Duration      { return benchfmt.Percentile(r.seqLat, 50) }
func (r *result) seqP99() time.Duration      { return benchfmt.Percentile(r.seqLat, 99) }
func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "user agent:                 %s\n", r.userAgent)
	fmt.Fprintf(w, "start (median of %d):       %s\n", len(r.starts), ms(r.startMedian()))
	fmt.Fprintf(w, "RSS after initialize:       %s\n", mib(r.rssMedian()))
	fmt.Fprintf(w, "sequential p50 / p99:       %s / %s over %d (%s)\n", us(r.seqP50()), us(r.seqP99()), len(r.seqLat), errorSummary(r.seqErrors))
	fmt.Fprintf(w, "pipelined, window %d:       %s\n", pipelineWindow, r.pipeWindow)
	fmt.Fprintf(w, "pipelined, no window:       %s\n", r.pipeAll)
}

// measure runs every measurement of every target. The targets take turns
// within each measurement (spawn by spawn, round by round), so that both
// see the same load on a shared machine.
func measure(targets []*target, cfg config) ([]*result, error) {
	rs := make([]*result, len(targets))
	for i, t := range targets {
		rs[i] = &result{name: t.name, seqErrors: make(map[int]int)}
	}
	for _, t := range targets {
		if err := dropPageCache(t.argv[0]); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	for n := range cfg.spawns {
		for i, t := range targets {
			d, rss, ua, err := measureStart(t)
			if err != nil {
				return nil, fmt.Errorf("%s: spawn %d: %w", t.name, n+1, err)
			}
			rs[i].starts = append(rs[i].starts, d)
			rs[i].rss = append(rs[i].rss, rss)
			rs[i].userAgent = ua
		}
	}

	procs := make([]*proc, len(targets))
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	for i, t := range targets {
		p, err := startInitialized(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		procs[i] = p
		if _, _, err := p.sequential(min(100, cfg.seq)); err != nil { // warm-up
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	for round := range seqRounds {
		n := cfg.seq / seqRounds
		if round == seqRounds-1 {
			n = cfg.seq - n*(seqRounds-1)
		}
		for i, p := range procs {
			lat, errs, err := p.sequential(n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", targets[i].name, err)
			}
			rs[i].seqLat = append(rs[i].seqLat, lat...)
			for code, c := range errs {
				rs[i].seqErrors[code] += c
			}
		}
	}
	for i, p := range procs {
		var err error
		if rs[i].pipeWindow, err = p.pipelined(cfg.pipelined, pipelineWindow); err != nil {
			return nil, fmt.Errorf("%s: %w", targets[i].name, err)
		}
		if err := p.stop(); err != nil {
			return nil, fmt.Errorf("%s: %w", targets[i].name, err)
		}
	}

	// A fresh process for the unbounded run: a server may shed or drop
	// requests beyond its queue, which can leave the connection unusable.
	for i, t := range targets {
		p, err := startInitialized(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		procs[i] = p
		if rs[i].pipeAll, err = p.pipelined(cfg.pipelined, 0); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		if rs[i].pipeAll.lost() > 0 {
			p.Cmd.Process.Kill() // it stopped answering; do not wait for it
		}
		p.stop()
	}
	return rs, nil
}

// seqRounds is how many turns each target takes in the sequential run.
const seqRounds = 4

func startInitialized(t *target) (*proc, error) {
	p, err := start(t)
	if err != nil {
		return nil, err
	}
	if _, err := p.Initialize("appbench"); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// pipelineWindow bounds the requests in flight in the windowed pipelined
// run: below the Codex server's request queue (128), so that both servers
// answer every request and the figure compares serving speed.
const pipelineWindow = 100

// rssSettle is how long after the initialize reply (and the initialized
// notification) RSS is sampled.
const rssSettle = 100 * time.Millisecond

// measureStart spawns one process and returns the time to the initialize
// reply and the RSS once initialized.
func measureStart(t *target) (time.Duration, int64, string, error) {
	t0 := time.Now()
	p, err := start(t)
	if err != nil {
		return 0, 0, "", err
	}
	defer p.stop()
	ua, err := p.Initialize("appbench")
	if err != nil {
		return 0, 0, "", err
	}
	d := time.Since(t0)
	// Let start-up work the handshake triggered settle before sampling.
	time.Sleep(rssSettle)
	rss, err := benchfmt.ProcKB(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid), "VmRSS")
	if err != nil {
		return 0, 0, "", err
	}
	return d, rss, ua, p.stop()
}

// proc is one running server, spoken to over its stdin and stdout.
type proc struct {
	*benchfmt.Server
	*client
	home string
}

// client is the JSON-RPC client (benchfmt.Client) and how to end a read
// in progress (pipelined's idle timeout).
type client struct {
	*benchfmt.Client
	closeRead func() error
}

func start(t *target) (*proc, error) {
	home, err := os.MkdirTemp("", "appbench-home-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(t.argv[0], t.argv[1:]...)
	cmd.Env = append(os.Environ(), t.env(home)...)
	srv, err := benchfmt.Start(cmd, 4096)
	if err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	return &proc{Server: srv, home: home, client: &client{
		Client: &benchfmt.Client{
			W:      bufio.NewWriterSize(srv.Stdin, 64<<10),
			R:      bufio.NewReaderSize(srv.Stdout, 64<<10),
			Stderr: srv.Stderr,
		},
		closeRead: srv.Stdout.Close,
	}}, nil
}

// stop stops the server (benchfmt.Server.Stop) and removes its home.
func (p *proc) stop() error {
	defer os.RemoveAll(p.home)
	return p.Stop()
}

// message is the part of a server message the client looks at.
type message = benchfmt.Message

const benchMethod, benchParams = "thread/loaded/list", `{}`

// sequential sends n requests one at a time.
func (p *client) sequential(n int) ([]time.Duration, map[int]int, error) {
	lat := make([]time.Duration, 0, n)
	errs := make(map[int]int)
	for range n {
		t0 := time.Now()
		m, err := p.Call(benchMethod, benchParams)
		if err != nil {
			return nil, nil, err
		}
		lat = append(lat, time.Since(t0))
		if m.Error != nil {
			errs[m.Error.Code]++
		}
	}
	return lat, errs, nil
}

// pipeResult is one pipelined run.
type pipeResult struct {
	n        int           // requests sent
	answered int           // responses read (errors included)
	errs     map[int]int   // error code -> count
	elapsed  time.Duration // first write to last response
}

func (r pipeResult) lost() int { return r.n - r.answered }

// throughput is responses per second, error responses included.
func (r pipeResult) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.answered) / r.elapsed.Seconds()
}

func (r pipeResult) String() string {
	s := fmt.Sprintf("%.0f responses/s, %d of %d answered (%s)", r.throughput(), r.answered, r.n, errorSummary(r.errs))
	if r.lost() > 0 {
		s += fmt.Sprintf(", %d never answered", r.lost())
	}
	return s
}

// pipelineIdle is how long the client waits for the next response before it
// counts the rest as never answered.
const pipelineIdle = 3 * time.Second

// pipelined writes n requests while reading the responses concurrently.
// With window > 0 at most window requests are in flight; with window 0 all
// are written without waiting. When no response arrives for pipelineIdle
// the remaining ones count as lost and the process's stdout is closed, so
// the process is unusable afterwards.
func (p *client) pipelined(n, window int) (pipeResult, error) {
	res := pipeResult{n: n, errs: make(map[int]int)}
	first := p.NextID
	p.NextID += n
	var tokens chan struct{}
	if window > 0 {
		tokens = make(chan struct{}, window)
	}
	var last atomic.Int64 // time of the last response, unix ns
	t0 := time.Now()
	last.Store(t0.UnixNano())

	writeErr := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < n && err == nil; i++ {
			if tokens != nil {
				select {
				case tokens <- struct{}{}:
				default:
					// The window is full: send what is buffered, then wait.
					if err = p.W.Flush(); err != nil {
						break
					}
					tokens <- struct{}{}
				}
			}
			_, err = fmt.Fprintf(p.W, `{"id":%d,"method":%q,"params":%s}`+"\n", first+i, benchMethod, benchParams)
		}
		if err == nil {
			err = p.W.Flush()
		}
		writeErr <- err
	}()

	var timedOut atomic.Bool
	watchDone := make(chan struct{})
	defer close(watchDone)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-watchDone:
				return
			case <-tick.C:
				if time.Since(time.Unix(0, last.Load())) > pipelineIdle {
					timedOut.Store(true)
					p.closeRead() // unblocks the read below
					return
				}
			}
		}
	}()

	seen := make([]bool, n)
	for res.answered < n {
		line, err := p.R.ReadSlice('\n')
		if err != nil {
			if timedOut.Load() {
				break
			}
			return res, fmt.Errorf("pipelined: %d of %d responses: %w; stderr tail:\n%s", res.answered, n, err, p.Stderr)
		}
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			return res, fmt.Errorf("bad line from the server: %v: %q", err, line)
		}
		if m.Method != "" || m.ID == nil {
			continue
		}
		id, err := strconv.Atoi(string(m.ID))
		if err != nil || id < first || id >= first+n || seen[id-first] {
			return res, fmt.Errorf("pipelined: unexpected response id %s", m.ID)
		}
		last.Store(time.Now().UnixNano())
		seen[id-first] = true
		res.answered++
		if m.Error != nil {
			res.errs[m.Error.Code]++
		}
		if tokens != nil {
			<-tokens
		}
	}
	res.elapsed = time.Unix(0, last.Load()).Sub(t0)
	if timedOut.Load() {
		return res, nil // the writer may be blocked on a server that stopped reading; stop() ends it
	}
	return res, <-writeErr
}

// check is one target: ours/codex compared with a bound.
type check struct {
	name   string
	ratio  float64
	bound  float64
	atMost bool   // the ratio must be at most bound (else at least)
	extra  string // an absolute bound's verdict, if any
	ok     bool
}

// op is the comparison the ratio must pass.
func (c check) op() string {
	if c.atMost {
		return "≤"
	}
	return "≥"
}

func (c check) verdict() string {
	s := fmt.Sprintf("%.3f (target %s %s): %s", c.ratio, c.op(), fraction(c.bound), benchfmt.Verdict(c.ok, "met", "NOT met"))
	if c.extra != "" {
		s += "; " + c.extra
	}
	return s
}

func fraction(f float64) string {
	if f < 1 {
		return fmt.Sprintf("1/%.0f", 1/f)
	}
	return fmt.Sprintf("%.0f×", f)
}

const maxRSS = 12 << 20

func compare(ours, codex *result) []check {
	rssOK := ours.rssMedian() <= maxRSS
	rss := check{name: "RSS after initialize", ratio: float64(ours.rssMedian()) / float64(codex.rssMedian()), bound: 1.0 / 7, atMost: true}
	rss.extra = fmt.Sprintf("%s ≤ 12 MiB: %s", mib(ours.rssMedian()), benchfmt.Verdict(rssOK, "met", "NOT met"))
	cs := []check{
		{name: "start (spawn to initialize reply)", ratio: ours.startMedian().Seconds() / codex.startMedian().Seconds(), bound: 1.0 / 10, atMost: true},
		rss,
		{name: fmt.Sprintf("pipelined throughput (window %d)", pipelineWindow), ratio: ours.pipeWindow.throughput() / codex.pipeWindow.throughput(), bound: 3},
		{name: "sequential p50", ratio: ours.seqP50().Seconds() / codex.seqP50().Seconds(), bound: 1.0 / 4, atMost: true},
	}
	for i := range cs {
		c := &cs[i]
		if c.atMost {
			c.ok = c.ratio <= c.bound
		} else {
			c.ok = c.ratio >= c.bound
		}
	}
	cs[1].ok = cs[1].ok && rssOK
	return cs
}

// machine describes where the benchmark ran.
type machine struct {
	date, cpu, kernel, goVersion string
	ncpu                         int
	memTotal                     string
}

func machineInfo() machine {
	pm := benchfmt.ReadMachine()
	m := machine{
		date:      time.Now().UTC().Format("2006-01-02 15:04 MST"),
		ncpu:      runtime.NumCPU(),
		goVersion: runtime.Version(),
		cpu:       cmp.Or(pm.CPU, "unknown"),
		kernel:    pm.Kernel,
		memTotal:  "unknown",
	}
	if pm.MemTotal > 0 {
		m.memTotal = fmt.Sprintf("%.1f GiB", float64(pm.MemTotal)/(1<<30))
	}
	return m
}

// markdown renders the generated section.
func markdown(m machine, cfg config, rs []*result, cs []check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Generated by `make bench` (cmd/appbench) on %s.\n\n", m.date)
	fmt.Fprintf(&b, "Machine: %d CPUs (`nproc`), %s, %s memory, %s, %s.\n\n", m.ncpu, m.cpu, m.memTotal, m.kernel, m.goVersion)
	table := benchfmt.Table(&b, rs, func(r *result) string { return r.name }, "figure")
	row := func(name string, f func(r *result) string) { table(f, name) }
	row("user agent", func(r *result) string { return "`" + r.userAgent + "`" })
	row(fmt.Sprintf("start: spawn to `initialize` reply (median of %d)", cfg.spawns), func(r *result) string { return ms(r.startMedian()) })
	row("RSS 100 ms after `initialize` (VmRSS, median)", func(r *result) string { return mib(r.rssMedian()) })
	row(fmt.Sprintf("sequential `%s` p50 (%d round trips)", benchMethod, cfg.seq), func(r *result) string { return us(r.seqP50()) })
	row("sequential p99", func(r *result) string { return us(r.seqP99()) })
	row("sequential error responses", func(r *result) string { return errorSummary(r.seqErrors) })
	row(fmt.Sprintf("pipelined `%s`, %d requests, at most %d in flight", benchMethod, cfg.pipelined, pipelineWindow), func(r *result) string {
		return fmt.Sprintf("%.0f req/s", r.pipeWindow.throughput())
	})
	row("… error responses", func(r *result) string { return pipeErrors(r.pipeWindow) })
	row(fmt.Sprintf("pipelined, all %d written without waiting", cfg.pipelined), func(r *result) string {
		return fmt.Sprintf("%.0f responses/s", r.pipeAll.throughput())
	})
	row("… error responses", func(r *result) string { return pipeErrors(r.pipeAll) })
	if len(cs) > 0 {
		b.WriteString("\n| target (ours/codex) | ratio | target | met |\n|---|---:|---|---|\n")
		for _, c := range cs {
			bound := c.op() + " " + fraction(c.bound)
			if c.extra != "" {
				bound += " and ≤ 12 MiB"
			}
			fmt.Fprintf(&b, "| %s | %.3f | %s | %s |\n", c.name, c.ratio, bound, yesNo(c.ok))
		}
	} else {
		b.WriteString("\nCodex was not measured in this run (`make bench-codex` installs it and compares).\n")
	}
	return b.String()
}

// Markers delimit the generated section in the --out file.
const (
	beginMarker = "<!-- appbench:begin (generated by make bench; edits inside are overwritten) -->"
	endMarker   = "<!-- appbench:end -->"
)

func pipeErrors(r pipeResult) string {
	return fmt.Sprintf("%s, %d never answered", errorSummary(r.errs), r.lost())
}

func errorSummary(errs map[int]int) string {
	if len(errs) == 0 {
		return "0 errors"
	}
	codes := make([]int, 0, len(errs))
	total := 0
	for c, n := range errs {
		codes = append(codes, c)
		total += n
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d× %d", errs[c], c)
	}
	return fmt.Sprintf("%d errors: %s", total, strings.Join(parts, ", "))
}

var ms, us = benchfmt.MS, benchfmt.US

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

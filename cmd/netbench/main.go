//go:build unix

// Command netbench measures the managed network proxy (package netapproval)
// against direct loopback TCP, side by side in one run, for the benchmarks
// of issue 5:
//
//  1. throughput: 1 GiB through a CONNECT tunnel vs the same transfer on a
//     direct loopback TCP connection (target: tunnel >= 0.9x direct);
//  2. setup: dial to the first byte of a small HTTP response, direct vs
//     through the proxy to a pre-approved host, both as a CONNECT tunnel
//     and as a plain forwarded request (target: proxied <= 1.3x direct);
//  3. fan-in: 10,000 concurrent CONNECTs over 32 keys (32 target ports on
//     127.0.0.1; a thread holds at most 32 open prompts, past that new
//     destinations are denied) in a child process: the number of prompts
//     (target exactly one per key), the time from the last answer to the last connection done
//     (target <= 1 s) and the server's memory per waiting connection
//     (target <= 8 KB).
//
// Every socket is on 127.0.0.1. The proxy runs in this process with
// allow_local_binding; the fan-in clients and targets run in a child (this
// binary again, with -child), so this process's memory growth is the
// proxy's alone.
//
// Usage:
//
//	netbench [-out docs/BENCHMARKS.md] [-bytes 1073741824] [-reps 5]
//	         [-setup 2000] [-conns 10000] [-keys 32] [-wait-proto connect]
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"app-server/cmd/internal/benchfmt"
	"app-server/netapproval"
)

func main() {
	var (
		out       = flag.String("out", "", "markdown file to update between the network-bench markers (other text is kept)")
		total     = flag.Int64("bytes", 1<<30, "bytes per throughput transfer")
		reps      = flag.Int("reps", 5, "throughput repetitions (each direct and proxied)")
		setup     = flag.Int("setup", 2000, "setup iterations per variant")
		conns     = flag.Int("conns", 10000, "concurrent connections for the fan-in benchmark")
		keys      = flag.Int("keys", 32, "distinct keys (target ports) for the fan-in benchmark; at most the 32 prompts a thread may hold open")
		waitProto = flag.String("wait-proto", "connect", "fan-in client protocol: connect (HTTP CONNECT) or socks5")
		only      = flag.String("only", "fan,tp,setup", "comma-separated benchmarks to run (fan, tp, setup); -out needs all three")
		child     = flag.Bool("child", false, "internal: run the fan-in clients and targets")
		proxyAddr = flag.String("proxy", "", "internal: proxy address for -child")
		cred      = flag.String("cred", "", "internal: user:token for -child")
		deny      = flag.Bool("deny", false, "internal: -child expects every request refused")
	)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("netbench: ")
	if *child {
		runChild(*proxyAddr, *cred, *waitProto, *conns, *keys, *deny)
		return
	}
	if *waitProto != "connect" && *waitProto != "socks5" {
		log.Fatalf("-wait-proto %q: want connect or socks5", *waitProto)
	}

	run := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		run[strings.TrimSpace(s)] = true
	}
	if *out != "" && !(run["fan"] && run["tp"] && run["setup"]) {
		log.Fatal("-out needs every benchmark (-only fan,tp,setup)")
	}

	r := &report{date: time.Now().UTC(), machine: machineInfo(), bytes: *total, load: "unknown"}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			r.load = strings.Join(f[:3], " ")
		}
	}
	log.Printf("machine: %s", r.machine)

	// The fan-in runs first, in a fresh heap, so that its RSS baseline is
	// not inflated by the other benchmarks' freed pages.
	if run["fan"] {
		r.fans = []fanResult{
			fanIn(*conns, *keys, *waitProto, false),
			fanIn(*conns, *keys, *waitProto, true),
		}
	}
	if run["tp"] || run["setup"] {
		w, err := newWorld()
		if err != nil {
			log.Fatal(err)
		}
		if run["tp"] {
			r.tp = w.throughput(*total, *reps)
		}
		if run["setup"] {
			r.setup = w.setupLatency(*setup)
		}
		w.close()
	}

	md := r.markdown()
	fmt.Print(md)
	if *out != "" {
		if err := benchfmt.WriteSection(*out, startMarker, endMarker, md); err != nil {
			log.Fatal(err)
		}
		log.Printf("updated %s", *out)
	}
}

// ---------------------------------------------------------------------------
// World for benchmarks 1 and 2: one Manager with 127.0.0.1 pre-approved by an
// allow rule, a sink and an HTTP target.

type world struct {
	m       *netapproval.Manager
	th      *netapproval.Thread
	a       *netapproval.Attachment
	auth    string // Proxy-Authorization header value
	proxy   string // HTTP proxy host:port
	sink    net.Listener
	relay   net.Listener // reference: a bare CONNECT relay without policy
	httpLn  net.Listener
	httpSrv *http.Server
	prompts atomic.Int64
	wg      sync.WaitGroup
}

func newWorld() (*world, error) {
	w := &world{}
	m, err := netapproval.NewManager(netapproval.Options{Config: netapproval.Config{
		AllowLocalBinding: true,
		AllowedDomains:    []string{"127.0.0.1"},
	}})
	if err != nil {
		return nil, err
	}
	if err := m.Start(); err != nil {
		return nil, err
	}
	w.m = m
	w.proxy = m.HTTPAddr().String()
	// Pre-approved: a prompt here would be a benchmark bug; count them.
	w.th, err = m.OpenThread("bench", netapproval.PrompterFunc(func(ctx context.Context, req netapproval.PromptRequest) (netapproval.Answer, error) {
		w.prompts.Add(1)
		return netapproval.Answer{Kind: netapproval.AnswerDecline}, nil
	}))
	if err != nil {
		return nil, err
	}
	w.a, err = m.Attach(netapproval.ExecInfo{ThreadID: "bench", TurnID: "turn", CommandID: "bench", PromptsAllowed: true})
	if err != nil {
		return nil, err
	}
	w.auth = basicAuth(w.a.HTTPProxyURL())

	if w.sink, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	w.wg.Add(1)
	go w.serveSink()
	if w.relay, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	w.wg.Add(1)
	go w.serveRelay()

	if w.httpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	body := []byte("ok\n")
	w.httpSrv = &http.Server{
		Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Length", "3")
			rw.Write(body)
		}),
		ErrorLog: log.New(io.Discard, "", 0),
	}
	w.wg.Add(1)
	go func() { defer w.wg.Done(); w.httpSrv.Serve(w.httpLn) }()
	return w, nil
}

func (w *world) close() {
	w.m.Close()
	w.sink.Close()
	w.relay.Close()
	w.httpSrv.Close()
	w.wg.Wait()
	if n := w.prompts.Load(); n != 0 {
		log.Fatalf("%d prompts in the pre-approved benchmarks", n)
	}
}

// basicAuth turns http://user:token@host into a Basic credential.
func basicAuth(proxyURL string) string {
	u, err := url.Parse(proxyURL)
	if err != nil {
		log.Fatal(err)
	}
	pw, _ := u.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw))
}

// serveSink reads each connection to EOF with a large buffer, then writes
// the byte count (decimal, newline) and closes.
func (w *world) serveSink() {
	w.acceptLoop(w.sink, func(c net.Conn) {
		buf := make([]byte, 256<<10)
		var n int64
		for {
			k, err := c.Read(buf)
			n += int64(k)
			if err != nil {
				break
			}
		}
		fmt.Fprintf(c, "%d\n", n)
	})
}

// acceptLoop serves each connection of ln with handle on a goroutine of its
// own, closing the connection after; it returns when ln is closed. Every
// goroutine is counted in w.wg.
func (w *world) acceptLoop(ln net.Listener, handle func(net.Conn)) {
	defer w.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer c.Close()
			handle(c)
		}()
	}
}

// serveRelay is the reference point: the least any CONNECT proxy does (read
// the head, dial, answer 200, io.Copy both ways between two *net.TCPConn,
// which splices), with no credential, policy or tracking.
func (w *world) serveRelay() {
	w.acceptLoop(w.relay, func(c net.Conn) {
		br := bufio.NewReader(c)
		line, err := readHead(br)
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "CONNECT" {
			return
		}
		up, err := net.Dial("tcp", f[1])
		if err != nil {
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
			return
		}
		defer up.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		if n := br.Buffered(); n > 0 {
			b, _ := br.Peek(n)
			up.Write(b)
		}
		benchfmt.Splice(c, up)
	})
}

// connectVia opens a CONNECT tunnel to target through the proxy and
// returns the connection positioned after the 200 response.
func connectVia(proxy, auth, target string) (net.Conn, error) {
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return nil, err
	}
	if err := sendOpen(c, "connect", target, auth, "", ""); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 4096)
	if err := readOpen(br, "connect"); err != nil {
		c.Close()
		return nil, err
	}
	return &tunnelConn{TCPConn: c.(*net.TCPConn), br: br}, nil
}

// tunnelConn reads through the buffer that read the CONNECT response (it
// may hold the first tunnel bytes) and writes to the socket directly.
type tunnelConn struct {
	*net.TCPConn
	br *bufio.Reader
}

func (t *tunnelConn) Read(b []byte) (int, error) { return t.br.Read(b) }

// readConnectResponse reads a CONNECT response head and checks for 200; a
// refusal's error carries the status line and the start of the body.
func readConnectResponse(br *bufio.Reader) error {
	status, err := readHead(br)
	if err != nil {
		return fmt.Errorf("reading CONNECT response: %w", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 200") {
		n := min(br.Buffered(), 200)
		body, _ := br.Peek(n)
		return fmt.Errorf("CONNECT refused: %s: %s", strings.TrimSpace(status), strings.TrimSpace(string(body)))
	}
	return nil
}

// readHead reads an HTTP head, the request or status line and the header
// lines up to the blank one, and returns its first line.
func readHead(br *bufio.Reader) (string, error) {
	first, err := br.ReadString('\n')
	for line := first; err == nil && line != "\r\n"; {
		line, err = br.ReadString('\n')
	}
	return first, err
}

// ---------------------------------------------------------------------------
// 1. Throughput.

type tpResult struct {
	direct, proxied, relay []float64 // MB/s per repetition
}

func (w *world) throughput(total int64, reps int) tpResult {
	var r tpResult
	target := w.sink.Addr().String()
	for i := range reps {
		d, err := transfer(total, func() (net.Conn, error) { return net.Dial("tcp", target) })
		if err != nil {
			log.Fatalf("direct transfer: %v", err)
		}
		p, err := transfer(total, func() (net.Conn, error) { return connectVia(w.proxy, w.auth, target) })
		if err != nil {
			log.Fatalf("tunnel transfer: %v", err)
		}
		b, err := transfer(total, func() (net.Conn, error) { return connectVia(w.relay.Addr().String(), w.auth, target) })
		if err != nil {
			log.Fatalf("bare relay transfer: %v", err)
		}
		r.direct = append(r.direct, d)
		r.proxied = append(r.proxied, p)
		r.relay = append(r.relay, b)
		log.Printf("throughput %d/%d: direct %.0f MB/s, tunnel %.0f MB/s, bare relay %.0f MB/s", i+1, reps, d, p, b)
	}
	return r
}

// transfer sends total bytes on a connection from open and waits for the
// sink to confirm the count; the clock starts after the connection (and
// tunnel) is established.
func transfer(total int64, open func() (net.Conn, error)) (float64, error) {
	c, err := open()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	for i := range buf {
		buf[i] = byte(i)
	}
	start := time.Now()
	for left := total; left > 0; {
		n := min(left, int64(len(buf)))
		if _, err := c.Write(buf[:n]); err != nil {
			return 0, err
		}
		left -= n
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(c).ReadString('\n') // tunnelConn reads through its own buffer
	if err != nil {
		return 0, fmt.Errorf("reading sink count: %w", err)
	}
	elapsed := time.Since(start)
	got, _ := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if got != total {
		return 0, fmt.Errorf("sink got %d bytes, sent %d", got, total)
	}
	return float64(total) / elapsed.Seconds() / 1e6, nil
}

// ---------------------------------------------------------------------------
// 2. Connection setup.

type setupResult struct {
	iters                           int
	direct, connect, forward, relay []time.Duration
}

// setupLatency times dial -> first response byte for a small HTTP GET,
// interleaving the three variants so that drift hits all alike.
func (w *world) setupLatency(iters int) setupResult {
	r := setupResult{iters: iters}
	target := w.httpLn.Addr().String()
	get := "GET / HTTP/1.1\r\nHost: " + target + "\r\nConnection: close\r\n\r\n"
	fwd := "GET http://" + target + "/ HTTP/1.1\r\nHost: " + target + "\r\nProxy-Authorization: " + w.auth + "\r\nConnection: close\r\n\r\n"
	once := func(variant int) time.Duration {
		start := time.Now()
		var c net.Conn
		var err error
		switch variant {
		case 0:
			c, err = net.Dial("tcp", target)
		case 1:
			c, err = connectVia(w.proxy, w.auth, target)
		case 2:
			c, err = net.Dial("tcp", w.proxy)
		case 3:
			c, err = connectVia(w.relay.Addr().String(), w.auth, target)
		}
		if err != nil {
			log.Fatalf("setup variant %d: %v", variant, err)
		}
		defer c.Close()
		req := get
		if variant == 2 {
			req = fwd
		}
		if _, err := io.WriteString(c, req); err != nil {
			log.Fatalf("setup variant %d: %v", variant, err)
		}
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			log.Fatalf("setup variant %d: first byte: %v", variant, err)
		}
		d := time.Since(start)
		// Drain to EOF (untimed) so the server side closes first and the
		// TIME_WAIT states land there, not on our ephemeral ports.
		resp, err := io.ReadAll(c)
		if err != nil || !strings.HasPrefix(string(b[:])+string(resp), "HTTP/1.1 200") {
			log.Fatalf("setup variant %d: bad response %q: %v", variant, string(b[:])+string(resp), err)
		}
		return d
	}
	// Warm up (pools, stacks, the transport's idle connections).
	for range 50 {
		for v := range 4 {
			once(v)
		}
	}
	times := [4]*[]time.Duration{&r.direct, &r.connect, &r.forward, &r.relay} // by variant
	for i := range iters {
		// Rotate the order so no variant always runs first.
		for j := range 4 {
			v := (i + j) % 4
			*times[v] = append(*times[v], once(v))
		}
	}
	log.Printf("setup: direct p50 %v, connect p50 %v, forward p50 %v, bare relay p50 %v",
		pct(r.direct, 50), pct(r.connect, 50), pct(r.forward, 50), pct(r.relay, 50))
	return r
}

// ---------------------------------------------------------------------------
// 3. Fan-in: many connections waiting on few prompts.

type fanResult struct {
	proto             string
	conns, keys       int
	allow             bool   // answers: allow once (else decline)
	requested         int    // connections asked for (-conns)
	reduced           string // why fewer ran, if they did
	nofile            uint64
	skipped           string // why the benchmark could not run, if it did not
	prompts           int64
	promptsAfter      int64 // prompts counted once every connection finished
	waitSetup         time.Duration
	answerToDone      time.Duration
	releaseToDone     time.Duration // from the moment every answer was released
	firstToLastDone   time.Duration
	ok, failed        int
	firstErr          string
	heapPer, stackPer float64 // bytes per waiting connection
	rssPer            float64
	goroutinesPer     float64
	heapDelta         uint64
	stackDelta        uint64
	rssDelta          int64
}

// fanIn runs the fan-in with every prompt answered allow once (allow) or
// decline. Descriptors bound the size: a declined connection costs the
// proxy one (the client socket); an allowed one, while its tunnel is open,
// six (client and upstream sockets, and a splice pipe pair per direction,
// which Go's io.Copy between two *net.TCPConn holds for the copy's life).
// The child holds one per connection, two when allowed (the accepted
// target), plus the keys listeners.
func fanIn(conns, keys int, proto string, allow bool) fanResult {
	r := fanResult{proto: proto, conns: conns, keys: keys, requested: conns, allow: allow}
	perConn := 1
	if allow {
		perConn = 6
	}
	slack := keys + 64
	nofile, err := raiseNofile(uint64(perConn*conns + slack))
	r.nofile = nofile
	if err != nil {
		fit := (int(nofile) - slack) / perConn / keys * keys
		if fit < keys {
			r.skipped = err.Error()
			log.Print(r.skipped)
			return r
		}
		r.reduced = err.Error()
		r.conns = fit
		conns = fit
		log.Printf("%s: running %d connections instead", r.reduced, conns)
	}
	answer := netapproval.AnswerDecline
	if allow {
		answer = netapproval.AnswerAllowOnce
	}

	var (
		prompts    atomic.Int64
		release    = make(chan struct{})
		mu         sync.Mutex
		lastAnswer time.Time
	)
	m, err := netapproval.NewManager(netapproval.Options{Config: netapproval.Config{AllowLocalBinding: true}})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Start(); err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	th, err := m.OpenThread("fan", netapproval.PrompterFunc(func(ctx context.Context, req netapproval.PromptRequest) (netapproval.Answer, error) {
		prompts.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return netapproval.Answer{}, ctx.Err()
		}
		now := time.Now()
		mu.Lock()
		if now.After(lastAnswer) {
			lastAnswer = now
		}
		mu.Unlock()
		return netapproval.Answer{Kind: answer}, nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer th.Close()
	a, err := m.Attach(netapproval.ExecInfo{ThreadID: "fan", TurnID: "turn", CommandID: "fan", PromptsAllowed: true})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	proxy := m.HTTPAddr().String()
	purl := a.HTTPProxyURL()
	if proto == "socks5" {
		proxy = m.SOCKSAddr().String()
		purl = a.SOCKSProxyURL()
	}
	u, _ := url.Parse(purl)
	pw, _ := u.User.Password()

	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(exe, "-child", "-proxy", proxy, "-cred", u.User.Username()+":"+pw,
		"-wait-proto", proto, "-conns", strconv.Itoa(conns), "-keys", strconv.Itoa(keys), "-deny="+strconv.FormatBool(!allow))
	cmd.Stderr = os.Stderr
	child, err := benchfmt.Start(cmd, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer child.Stop()
	lines := bufio.NewScanner(child.Stdout)
	expect := func(prefix string) []string {
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			if len(f) > 0 && f[0] == prefix {
				return f[1:]
			}
		}
		log.Fatalf("child ended before %s: %v", prefix, lines.Err())
		return nil
	}
	expect("READY")

	// Baseline: everything but the waiting connections is in place.
	base := measure()
	g0 := runtime.NumGoroutine()
	start := time.Now()
	io.WriteString(child.Stdin, "GO\n")
	sent := expect("SENT")
	log.Printf("fan-in: child sent %s requests", strings.Join(sent, " "))

	// Every request is on the wire; wait until the proxy has taken them all
	// up: exactly `keys` prompts and a goroutine count that stopped moving.
	deadline := time.Now().Add(60 * time.Second)
	stableSince, last := time.Now(), -1
	for time.Now().Before(deadline) {
		n := runtime.NumGoroutine()
		if n != last {
			last, stableSince = n, time.Now()
		}
		if prompts.Load() >= int64(keys) && n-g0 >= conns && time.Since(stableSince) > 500*time.Millisecond {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.waitSetup = time.Since(start)
	r.prompts = prompts.Load()
	waiting := measure()
	r.goroutinesPer = float64(runtime.NumGoroutine()-g0) / float64(conns)
	r.heapDelta = waiting.heap - min(base.heap, waiting.heap)
	r.stackDelta = waiting.stack - min(base.stack, waiting.stack)
	r.rssDelta = waiting.rss - base.rss
	r.heapPer = float64(r.heapDelta) / float64(conns)
	r.stackPer = float64(r.stackDelta) / float64(conns)
	r.rssPer = float64(r.rssDelta) / float64(conns)
	log.Printf("fan-in: %d prompts; per waiting connection: heap %.0f B, stacks %.0f B, RSS %.0f B, %.2f goroutines",
		r.prompts, r.heapPer, r.stackPer, r.rssPer, r.goroutinesPer)

	releasedAt := time.Now()
	close(release) // answer every prompt at once
	done := expect("DONE")
	if len(done) < 4 {
		log.Fatalf("child DONE line: %v", done)
	}
	lastDone, _ := strconv.ParseInt(done[0], 10, 64)
	firstDone, _ := strconv.ParseInt(done[1], 10, 64)
	r.ok, _ = strconv.Atoi(done[2])
	r.failed, _ = strconv.Atoi(done[3])
	if len(done) > 4 {
		r.firstErr = strings.Join(done[4:], " ")
	}
	mu.Lock()
	la := lastAnswer
	mu.Unlock()
	r.answerToDone = time.Unix(0, lastDone).Sub(la)
	r.releaseToDone = time.Unix(0, lastDone).Sub(releasedAt)
	r.firstToLastDone = time.Duration(lastDone - firstDone)
	r.promptsAfter = prompts.Load()
	log.Printf("fan-in: %d ok, %d failed, last answer -> last done %v", r.ok, r.failed, r.answerToDone)
	return r
}

type memSample struct {
	heap, stack uint64
	rss         int64
}

// measure collects garbage and samples the live heap, the goroutine stacks
// and the resident set of this process.
func measure() memSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := benchfmt.ProcKB("/proc/self/status", "VmRSS") // 0 if unavailable
	return memSample{heap: ms.HeapAlloc, stack: ms.StackInuse, rss: rss}
}

// raiseNofile makes sure RLIMIT_NOFILE allows need descriptors: the soft
// limit goes up to the hard limit, and the hard limit too when the process
// may raise it. It returns the soft limit in effect.
func raiseNofile(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= need {
		return lim.Cur, nil
	}
	want := lim
	want.Cur = min(need, lim.Max)
	if lim.Max < need {
		// Only a privileged process may raise the hard limit.
		want.Cur, want.Max = need, need
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want)
	}
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Cur < need {
		return lim.Cur, fmt.Errorf("needs %d descriptors, RLIMIT_NOFILE is %d (hard %d) and cannot be raised", need, lim.Cur, lim.Max)
	}
	return lim.Cur, nil
}

// runChild is the fan-in's other process: keys target listeners (each
// connection gets one byte, then EOF) and conns clients that open a tunnel
// to target i%keys through the proxy and read that byte. Protocol on
// stdout: READY, then (after GO on stdin) SENT <n> <errors>, then DONE
// <last done unix ns> <first done unix ns> <ok> <failed> [first error].
func runChild(proxy, cred, proto string, conns, keys int, deny bool) {
	log.SetPrefix("netbench child: ")
	perConn := 2
	if deny {
		perConn = 1
	}
	if _, err := raiseNofile(uint64(perConn*conns + keys + 64)); err != nil {
		log.Fatal(err)
	}
	user, token, _ := strings.Cut(cred, ":")
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
	ports := make([]int, keys)
	for i := range keys {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Write([]byte{'!'})
				c.Close()
			}
		}()
	}
	fmt.Println("READY")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "GO" {
		return
	}

	var (
		sentWG, doneWG sync.WaitGroup
		sendErrs       atomic.Int64
		mu             sync.Mutex
		first, last    int64
		ok, failed     int
		firstErr       string
		dialSem        = make(chan struct{}, 128) // keep the accept queue from overflowing
	)
	fail := func(err error) {
		mu.Lock()
		failed++
		if firstErr == "" {
			firstErr = err.Error()
		}
		mu.Unlock()
	}
	sentWG.Add(conns)
	doneWG.Add(conns)
	for i := range conns {
		target := "127.0.0.1:" + strconv.Itoa(ports[i%keys])
		go func() {
			defer doneWG.Done()
			dialSem <- struct{}{}
			c, err := net.DialTimeout("tcp", proxy, 30*time.Second)
			if err == nil {
				err = sendOpen(c, proto, target, auth, user, token)
			}
			<-dialSem
			sentWG.Done()
			if err != nil {
				sendErrs.Add(1)
				fail(err)
				if c != nil {
					c.Close()
				}
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			br := bufio.NewReaderSize(c, 512)
			err = readOpen(br, proto)
			if deny {
				// Done is the refusal: 403, or SOCKS5 reply 0x02.
				if err == nil || !strings.Contains(err.Error(), "refused: HTTP/1.1 403") && !strings.Contains(err.Error(), "socks5 refused") {
					fail(fmt.Errorf("want a refusal, got %v", err))
					return
				}
			} else {
				if err != nil {
					fail(err)
					return
				}
				var b [1]byte
				if _, err := io.ReadFull(br, b[:]); err != nil {
					fail(fmt.Errorf("first tunnel byte: %w", err))
					return
				}
			}
			now := time.Now().UnixNano()
			mu.Lock()
			ok++
			if first == 0 || now < first {
				first = now
			}
			if now > last {
				last = now
			}
			mu.Unlock()
		}()
	}
	sentWG.Wait()
	fmt.Printf("SENT %d %d\n", conns, sendErrs.Load())
	doneWG.Wait()
	fmt.Printf("DONE %d %d %d %d %s\n", last, first, ok, failed, strings.ReplaceAll(firstErr, "\n", " "))
}

// sendOpen writes the request that opens a tunnel to target: an HTTP
// CONNECT, or the SOCKS5 greeting, authentication and CONNECT pipelined
// (the proxy offers exactly username/password).
func sendOpen(c net.Conn, proto, target, auth, user, token string) error {
	if proto == "connect" {
		_, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: %s\r\n\r\n", target, target, auth)
		return err
	}
	_, port, _ := net.SplitHostPort(target)
	p, _ := strconv.Atoi(port)
	msg := []byte{5, 1, 2, 1, byte(len(user))}
	msg = append(msg, user...)
	msg = append(msg, byte(len(token)))
	msg = append(msg, token...)
	msg = append(msg, 5, 1, 0, 1, 127, 0, 0, 1, byte(p>>8), byte(p))
	_, err := c.Write(msg)
	return err
}

// readOpen reads the proxy's answers to sendOpen, leaving the connection at
// the first tunnel byte.
func readOpen(br *bufio.Reader, proto string) error {
	if proto == "connect" {
		return readConnectResponse(br)
	}
	var b [2 + 2 + 10]byte
	if _, err := io.ReadFull(br, b[:]); err != nil {
		return fmt.Errorf("socks5 replies: %w", err)
	}
	if b[1] != 2 || b[3] != 0 || b[5] != 0 {
		return fmt.Errorf("socks5 refused: % x", b)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Report.

type report struct {
	date    time.Time
	machine string
	load    string
	bytes   int64
	tp      tpResult
	setup   setupResult
	fans    []fanResult
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mark(ok bool) string { return benchfmt.Verdict(ok, "met", "**missed**") }

var pct, us = benchfmt.Percentile[time.Duration], benchfmt.US

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("## Network proxy (issue 5)\n\n")
	p("Measured by `make bench-network` (`cmd/netbench`) on %s.  \n", r.date.Format("2006-01-02 15:04 UTC"))
	p("Machine: %s.  \n", r.machine)
	p("Load average when the run started: %s (other work on the machine shares the 2 cores; throughput in particular varies between runs).  \n", r.load)
	p("Everything runs on 127.0.0.1; the proxy is `netapproval.Manager` with `allow_local_binding`, in the benchmark's own process.\n\n")

	dm, pm, bm := median(r.tp.direct), median(r.tp.proxied), median(r.tp.relay)
	tr := pm / dm
	p("### 1. CONNECT tunnel throughput (%d MiB per transfer, median of %d)\n\n", r.bytes>>20, len(r.tp.direct))
	p("| path | median MB/s | runs (MB/s) |\n|---|---:|---|\n")
	p("| direct loopback TCP | %.0f | %s |\n", dm, joinF(r.tp.direct))
	p("| CONNECT tunnel (credential, host allowed by rule) | %.0f | %s |\n", pm, joinF(r.tp.proxied))
	p("| reference: bare CONNECT relay (no policy, io.Copy/splice) | %.0f | %s |\n\n", bm, joinF(r.tp.relay))
	p("Ratio tunnel/direct: **%.2fx** (target >= 0.9x: %s); bare relay/direct %.2fx, tunnel/bare relay %.2fx. ", tr, mark(tr >= 0.9), bm/dm, pm/bm)
	p("MB/s = 10^6 bytes/s, clocked from the first byte written to the sink's byte count read back; the three paths alternate within each repetition. ")
	p("Direct loopback TCP already keeps both CPUs busy (copy in, copy out, the TCP stack in softirq); any relay adds a second pass through the loopback TCP stack on the same 2 CPUs, so the bare relay row is the ceiling for a user-space proxy here. The tunnel splices (both ends are raw `*net.TCPConn`).\n\n")

	s := r.setup
	dp50, dp99 := pct(s.direct, 50), pct(s.direct, 99)
	cp50, cp99 := pct(s.connect, 50), pct(s.connect, 99)
	fp50, fp99 := pct(s.forward, 50), pct(s.forward, 99)
	bp50, bp99 := pct(s.relay, 50), pct(s.relay, 99)
	ratio := func(a, b time.Duration) float64 { return float64(a) / float64(b) }
	p("### 2. Connection setup to a pre-approved host (%d iterations each, interleaved)\n\n", s.iters)
	p("Dial to the first byte of a small HTTP response (`GET /`, 3-byte body, `Connection: close`).\n\n")
	p("| path | p50 | p99 | p50 ratio | p99 ratio |\n|---|---:|---:|---:|---:|\n")
	p("| direct | %s | %s | 1.00x | 1.00x |\n", us(dp50), us(dp99))
	p("| proxy, absolute-form GET (forwarded) | %s | %s | %.2fx | %.2fx |\n", us(fp50), us(fp99), ratio(fp50, dp50), ratio(fp99, dp99))
	p("| proxy, CONNECT then GET in the tunnel | %s | %s | %.2fx | %.2fx |\n", us(cp50), us(cp99), ratio(cp50, dp50), ratio(cp99, dp99))
	p("| reference: bare CONNECT relay, CONNECT then GET | %s | %s | %.2fx | %.2fx |\n\n", us(bp50), us(bp99), ratio(bp50, dp50), ratio(bp99, dp99))
	p("Target <= 1.3x (p50): forwarded %s, CONNECT %s. A CONNECT costs the client one more round trip (CONNECT, then its request) and the proxy an extra dial, so it is the stricter case.\n\n",
		mark(ratio(fp50, dp50) <= 1.3), mark(ratio(cp50, dp50) <= 1.3))

	p("### 3. Fan-in: concurrent connections waiting on prompts\n\n")
	for _, f := range r.fans {
		f.markdown(p)
	}
	return b.String()
}

func (f *fanResult) markdown(p func(string, ...any)) {
	answer := "declined"
	if f.allow {
		answer = "allowed once (tunnels open)"
	}
	p("#### %d connections over %d keys, answers %s\n\n", f.conns, f.keys, answer)
	if f.skipped != "" {
		p("Not run: %s.\n\n", f.skipped)
		return
	}
	if f.reduced != "" {
		p("**%d connections are impossible here**: %s. ", f.requested, f.reduced)
		p("This run uses **%d** connections (%d per key), the most that fit.\n\n", f.conns, f.conns/f.keys)
	}
	proto := "HTTP CONNECT"
	if f.proto == "socks5" {
		proto = "SOCKS5 CONNECT"
	}
	done := "its 403 refusal arrives"
	if f.allow {
		done = "the first byte from the target arrives through the tunnel"
	}
	p("%d clients (%s, one credential) to %d target ports on 127.0.0.1 (key = host, protocol, port) in a child process; RLIMIT_NOFILE %d. ", f.conns, proto, f.keys, f.nofile)
	p("The prompter counts prompts and holds every answer until all connections wait, then answers all at once. A connection is done when %s.\n\n", done)
	p("| figure | value | target |\n|---|---:|---|\n")
	p("| prompts reaching the Prompter | %d (after all done: %d) | exactly %d: %s |\n", f.prompts, f.promptsAfter, f.keys, mark(f.prompts == int64(f.keys) && f.promptsAfter == int64(f.keys)))
	p("| connections done / failed | %d / %d | all: %s |\n", f.ok, f.failed, mark(f.ok == f.conns))
	p("| last answer -> last connection done | %s | <= 1 s: %s |\n", f.answerToDone.Round(time.Millisecond), mark(f.ok == f.conns && f.answerToDone <= time.Second))
	p("| answers released (first answer) -> last connection done | %s | |\n", f.releaseToDone.Round(time.Millisecond))
	p("| first -> last connection done | %s | |\n", f.firstToLastDone.Round(time.Millisecond))
	live := f.heapPer + f.stackPer
	p("| proxy memory per waiting connection: live heap + goroutine stacks | %.0f B (%.1f KiB: heap %.0f, stacks %.0f) | <= 8 KB: %s |\n", live, live/1024, f.heapPer, f.stackPer, mark(live <= 8192))
	if f.allow {
		p("| proxy memory per waiting connection: RSS growth | not meaningful: the previous run already grew this process | |\n")
	} else {
		p("| proxy memory per waiting connection: RSS growth | %.0f B (%.1f KiB) | <= 8 KB: %s |\n", f.rssPer, f.rssPer/1024, mark(f.rssPer <= 8192))
	}
	p("| proxy goroutines per waiting connection | %.2f | |\n\n", f.goroutinesPer)
	if f.firstErr != "" {
		p("First client error: `%s`.\n\n", f.firstErr)
	}
	p("Memory is sampled in the proxy's process only (clients and targets are in the child), after two forced GCs: before the clients start, and when all %d wait on the %d open prompts (%s after the start; prompts counted, goroutine count steady). ", f.conns, f.keys, f.waitSetup.Round(time.Millisecond))
	p("Live heap is `HeapAlloc`, stacks `StackInuse`; RSS is `VmRSS`, which also holds GC slack. Kernel socket buffers are in neither.\n\n")
}

func joinF(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(parts, ", ")
}

// machineInfo describes the CPU, core count, kernel and Go version.
func machineInfo() string {
	m := benchfmt.ReadMachine()
	mem := ""
	if m.MemTotal > 0 {
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(m.MemTotal)/(1<<30))
	}
	return fmt.Sprintf("%s, %d logical CPUs%s, %s, %s %s/%s", cmp.Or(m.CPU, "unknown CPU"), runtime.NumCPU(), mem, cmp.Or(m.Kernel, "unknown kernel"), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Section markers in the output file.
const (
	startMarker = "<!-- network-bench:start -->"
	endMarker   = "<!-- network-bench:end -->"
)

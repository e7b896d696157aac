package netapproval

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
)

// TestWaitingConnectStackShrinks: thousands of CONNECTs may wait on one
// prompt, one goroutine each, so the stack in use at the wait must stay
// small enough (under a quarter of 8 KiB) for the garbage collector to
// shrink each waiting goroutine's stack to 4 KiB, whatever reading the
// head and deciding grew it to (pending.waitReading).
//
// It measures the build without the race detector (go test without
// -race), whose instrumented frames are larger.
func TestWaitingConnectStackShrinks(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumented frames make the stack larger; run without -race")
	}
	const n = 200
	w := newProxyWorld(t, Config{AllowLocalBinding: true})
	release := make(chan struct{})
	if _, err := w.m.OpenThread("t2", PrompterFunc(func(ctx context.Context, req PromptRequest) (Answer, error) {
		select {
		case <-release:
			return Answer{Kind: AnswerDecline}, nil
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		}
	})); err != nil {
		t.Fatal(err)
	}
	a, err := w.m.Attach(ExecInfo{ThreadID: "t2", TurnID: "turn-1", CommandID: "cmd-2", PromptsAllowed: true})
	if err != nil {
		t.Fatal(err)
	}
	before := stackInuse()
	auth := base64.StdEncoding.EncodeToString([]byte(a.user + ":" + a.token))
	target := w.echo.Addr().String()
	conns := make([]net.Conn, 0, n)
	defer func() {
		close(release)
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", w.m.HTTPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n", target, target, auth)
	}
	for waitingReaders() < n {
		runtime.Gosched()
	}
	per := float64(stackInuse()-min(before, stackInuse())) / n
	t.Logf("goroutine stack per waiting CONNECT: %.0f B", per)
	if per > 6<<10 {
		t.Errorf("goroutine stack per waiting CONNECT is %.0f B; the wait's stack in use grew past 2 KiB, so the GC no longer shrinks it to 4 KiB", per)
	}
}

// stackInuse is the goroutine stack memory in use after two collections
// (the first shrinks stacks, the second frees what the first released).
func stackInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.StackInuse
}

// waitingReaders counts the goroutines blocked in pending.waitReading.
func waitingReaders() int {
	var b strings.Builder
	pprof.Lookup("goroutine").WriteTo(&b, 2)
	return strings.Count(b.String(), "(*pending).waitReading(")
}

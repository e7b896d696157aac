package e2e

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"

	"app-server/protocol"
)

func TestCommandExec(t *testing.T) {
	tg := newTarget(t, false)
	s := startServer(t, options{config: localConfig})
	s.initialize()
	dir := t.TempDir()

	var r protocol.CommandExecResponse
	s.ok("command/exec", map[string]any{"command": []string{"sh", "-c", "pwd; echo oops >&2; exit 3"}, "cwd": dir}, &r)
	if r.ExitCode != 3 || r.Stdout != dir+"\n" || r.Stderr != "oops\n" {
		t.Errorf("command/exec answered %+v", r)
	}

	// Streaming: base64 deltas labelled by stream and process id.
	s.ok("command/exec", map[string]any{"command": []string{"sh", "-c", "echo out; echo err >&2"}, "streamStdoutStderr": true, "processId": "p1"}, &r)
	got := map[protocol.CommandExecOutputStream]string{}
	for len(got) < 2 {
		m, _ := s.until("command/exec/outputDelta")
		var n protocol.CommandExecOutputDeltaNotification
		m.decode(t, &n)
		b, err := base64.StdEncoding.DecodeString(n.DeltaBase64)
		if err != nil || n.ProcessID != "p1" {
			t.Fatalf("delta %+v: %v", n, err)
		}
		got[n.Stream] += string(b)
	}
	if got[protocol.StreamStdout] != "out\n" || got[protocol.StreamStderr] != "err\n" {
		t.Errorf("streamed %q", got)
	}

	// Env: set and remove.
	s.ok("command/exec", map[string]any{"command": []string{"sh", "-c", `echo "$A-${HOME:-nohome}"`}, "env": map[string]any{"A": "set", "HOME": nil}}, &r)
	if r.Stdout != "set-nohome\n" {
		t.Errorf("env: %q", r.Stdout)
	}

	// The longest timeout there is works.
	s.ok("command/exec", map[string]any{"command": []string{"true"}, "timeoutMs": int64(9223372036854)}, &r)
	if r.ExitCode != 0 {
		t.Errorf("command with the longest timeout: exit code %d", r.ExitCode)
	}

	// Timeout kills the command.
	s.ok("command/exec", map[string]any{"command": []string{"sleep", "10"}, "timeoutMs": 200}, &r)
	if r.ExitCode == 0 {
		t.Errorf("timed-out command exit code 0")
	}

	// Network: no thread to ask in, so an unapproved destination is denied
	// without a prompt, through the same proxy.
	s.ok("command/exec", map[string]any{"command": []string{"sh", "-c", curl(tg.url + "/")}}, &r)
	if !strings.HasPrefix(r.Stdout, "403") || tg.hits.Load() != 0 {
		t.Errorf("command/exec network: %q, hits %d", r.Stdout, tg.hits.Load())
	}

	// Bad input is refused naming the problem.
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"command": []string{}}, "command must name a program"},
		{map[string]any{"command": []string{"true"}, "cwd": "rel"}, "absolute"},
		{map[string]any{"command": []string{"/no/such/program"}}, "cannot run"},
		{map[string]any{"command": []string{"true"}, "timeoutMs": 0}, "timeoutMs"},
		// One millisecond past what a time.Duration holds.
		{map[string]any{"command": []string{"true"}, "timeoutMs": int64(9223372036855)}, "timeoutMs"},
		{map[string]any{"command": []string{"true"}, "timeoutMs": int64(math.MaxInt64)}, "timeoutMs"},
	} {
		m := s.call("command/exec", tc.params)
		if m.Error == nil || m.Error.Code != -32602 || !strings.Contains(m.Error.Message, tc.want) {
			t.Errorf("%v: %s", tc.params, m.Raw)
		}
	}
}

// Package benchfmt holds what the benchmark commands (cmd/appbench,
// cmd/netbench, cmd/modelbench, cmd/sandboxbench) share: the percentile they report, the
// machine they describe, the tail of a server's stderr they quote on
// failure, the JSON-RPC client they speak to a server with (client.go),
// and the marked section of docs/BENCHMARKS.md each one rewrites.
package benchfmt

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Percentile returns the p-th percentile (nearest rank) of xs, 0 for none.
func Percentile[T int64 | float64 | time.Duration](xs []T, p float64) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// MS and US format a duration in milliseconds and microseconds.
func MS(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func US(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// Verdict is yes when a target is met, else no: each benchmark words its
// verdicts its own way.
func Verdict(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// Table starts a markdown table in b: columns titled heads, then one
// right-aligned column per r in rs, titled name(r). The function it returns
// writes a row: the leading cells, then f(r) for each r.
func Table[R any](b *strings.Builder, rs []R, name func(R) string, heads ...string) func(f func(R) string, lead ...string) {
	row := func(f func(R) string, lead ...string) {
		for _, c := range lead {
			b.WriteString("| " + c + " ")
		}
		for _, r := range rs {
			b.WriteString("| " + f(r) + " ")
		}
		b.WriteString("|\n")
	}
	row(name, heads...)
	b.WriteString("|" + strings.Repeat("---|", len(heads)) + strings.Repeat("---:|", len(rs)) + "\n")
	return row
}

// Machine is what /proc says about the machine; a field it does not say is
// left zero, and each benchmark words the unknown its own way.
type Machine struct {
	CPU      string // "model name" of the first CPU
	Kernel   string // "Linux <osrelease>"
	MemTotal int64  // bytes
}

// ReadMachine reads the Machine from /proc.
func ReadMachine() Machine {
	var m Machine
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	m.MemTotal, _ = ProcKB("/proc/meminfo", "MemTotal")
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// ProcKB reads the "key: 1234 kB" line of a /proc file (meminfo, a
// process's status) in bytes.
func ProcKB(path, key string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			if f := strings.Fields(rest); len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no %s in %s", key, path)
}

// Tail keeps the last Max bytes written to it (8 KiB when Max is 0): the
// end of a server's stderr, quoted when the server fails.
type Tail struct {
	Max int

	mu sync.Mutex
	b  []byte
}

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := cmp.Or(t.Max, 8192)
	t.b = append(t.b, p...)
	if len(t.b) > limit {
		t.b = t.b[len(t.b)-limit:]
	}
	return len(p), nil
}

func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// WriteSection replaces the text between the begin and end marker lines in
// path with section, keeping everything around them. A missing file is
// created (with its directory) holding only a "# Benchmarks" title and the
// section; a file without the markers gets the section appended after a
// blank line; a file with only one of them is an error.
func WriteSection(path, begin, end, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err != nil {
		old = []byte("# Benchmarks\n\n")
	}
	block := begin + "\n" + section + end
	var out []byte
	i, j := bytes.Index(old, []byte(begin)), bytes.Index(old, []byte(end))
	switch {
	case i >= 0 && j > i:
		out = append(append(slices.Clip(old[:i]), block...), old[j+len(end):]...)
	case i >= 0 || j >= 0:
		return fmt.Errorf("%s: unbalanced %s / %s markers", path, begin, end)
	default:
		out = slices.Clip(old)
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, '\n')
		}
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n\n")) {
			out = append(out, '\n')
		}
		out = append(out, block+"\n"...)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

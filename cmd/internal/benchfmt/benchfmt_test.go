package benchfmt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	xs := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 5}, {99, 10}, {10, 1}, {100, 10}, {0, 1}} {
		if got := Percentile(xs, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := Percentile[int64](nil, 50); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestWriteSection(t *testing.T) {
	const begin, end = "<!-- b -->", "<!-- e -->"
	block := func(s string) string { return begin + "\n" + s + end }
	tests := []struct {
		name, old, want string
	}{
		{"new file", "-", "# Benchmarks\n\n" + block("A\n") + "\n"},
		{"no markers", "# B\n\nnotes", "# B\n\nnotes\n\n" + block("A\n") + "\n"},
		{"replace, keep notes", "# B\n\nbefore\n" + block("old\nold\n") + "\nafter\n", "# B\n\nbefore\n" + block("A\n") + "\nafter\n"},
		{"unbalanced", "# B\n\n" + begin + "\n", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "docs", "BENCHMARKS.md")
			if tt.old != "-" {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteSection(path, begin, end, "A\n")
			if tt.want == "error" {
				if err == nil || !strings.Contains(err.Error(), "unbalanced") {
					t.Fatalf("err = %v, want unbalanced markers", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tail := &Tail{Max: 4}
	tail.Write([]byte("abc"))
	tail.Write([]byte("def"))
	if got := tail.String(); got != "cdef" {
		t.Errorf("tail = %q, want cdef", got)
	}
}

func TestTable(t *testing.T) {
	var b strings.Builder
	row := Table(&b, []string{"ours", "theirs"}, func(s string) string { return s }, "figure", "transport")
	row(func(s string) string { return s + "!" }, "start", "stdio")
	want := "| figure | transport | ours | theirs |\n|---|---|---:|---:|\n| start | stdio | ours! | theirs! |\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestProcKB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(path, []byte("Name:\tx\nVmRSS:\t    1234 kB\nThreads:\t3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ProcKB(path, "VmRSS"); err != nil || got != 1234<<10 {
		t.Errorf("ProcKB(VmRSS) = %d, %v; want %d", got, err, 1234<<10)
	}
	if _, err := ProcKB(path, "VmHWM"); err == nil {
		t.Error("ProcKB(VmHWM) found a key the file does not have")
	}
}

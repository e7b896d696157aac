package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	xs := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 5}, {99, 10}, {10, 1}, {100, 10}, {0, 1}} {
		if got := percentile(xs, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile[int64](nil, 50); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestWriteSection(t *testing.T) {
	block := func(s string) string { return beginMarker + "\n" + s + endMarker }
	tests := []struct {
		name, old, want string
	}{
		{"new file", "-", "# Benchmarks\n\n" + block("A\n") + "\n"},
		{"no markers", "# B\n\nnotes", "# B\n\nnotes\n\n" + block("A\n") + "\n"},
		{"replace, keep notes", "# B\n\nbefore\n" + block("old\nold\n") + "\nafter\n", "# B\n\nbefore\n" + block("A\n") + "\nafter\n"},
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
			if err := writeSection(path, "A\n"); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestErrorSummary(t *testing.T) {
	if got, want := errorSummary(map[int]int{-32601: 3, -32001: 2}), "5 errors: 3× -32601, 2× -32001"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := errorSummary(nil); got != "0 errors" {
		t.Errorf("got %q", got)
	}
}

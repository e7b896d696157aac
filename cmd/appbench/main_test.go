package main

import "testing"

func TestErrorSummary(t *testing.T) {
	if got, want := errorSummary(map[int]int{-32601: 3, -32001: 2}), "5 errors: 3× -32601, 2× -32001"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := errorSummary(nil); got != "0 errors" {
		t.Errorf("got %q", got)
	}
}

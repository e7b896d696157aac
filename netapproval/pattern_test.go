package netapproval

import (
	"strings"
	"testing"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern string
		host    string
		want    bool
	}{
		{"example.com", "example.com", true},
		{"example.com", "www.example.com", false},
		{"Example.COM.", "example.com", true},
		{"*.example.com", "www.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "badexample.com", false},
		{"**.example.com", "example.com", true},
		{"**.example.com", "a.b.example.com", true},
		{"**.example.com", "notexample.com", false},
		{"*", "anything.test", true},
		{"*", "127.0.0.1", true},
		{"region*.cdn.example", "region1.cdn.example", true},
		{"region*.cdn.example", "region.cdn.example", true},
		{"region*.cdn.example", "region1.x.cdn.example", false},
		{"region*.cdn.example", "xregion1.cdn.example", false},
		{"region*.cdn.example", "region1.cdn.example.org", false},
		{"a*b.test", "ab.test", true},
		{"a*b.test", "axxb.test", true},
		{"a*b.test", "a.b.test", false},
		{"api.*.test", "api.eu.test", true},
		{"api.*.test", "api.eu.x.test", false},
		{"[::1]", "::1", true},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("parsePattern(%q): %v", tt.pattern, err)
		}
		if got := p.matches(tt.host); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestCompilePatterns(t *testing.T) {
	set, err := compilePatterns("allowed_domains", allowList, []string{"Example.com", "example.com.", "*.a.test", "*.A.test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.pats) != 2 {
		t.Errorf("duplicates not removed: %+v", set.pats)
	}
	if _, err := compilePatterns("allowed_domains", allowList, []string{"*"}); err != nil {
		t.Errorf("* in allow list: %v", err)
	}
	_, err = compilePatterns("denied_domains", denyList, []string{"ok.test", "*"})
	if err == nil || !strings.Contains(err.Error(), "denied_domains") || !strings.Contains(err.Error(), `"*"`) {
		t.Errorf("* in deny list: err = %v, want an error naming denied_domains and \"*\"", err)
	}
	for _, bad := range []string{"", "a..b", "ex ample.com", "a**.test"} {
		if _, err := compilePatterns("allowed_domains", allowList, []string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
	if !set.hasExact("example.com") || set.hasExact("x.a.test") {
		t.Error("hasExact: exact entries only")
	}
}

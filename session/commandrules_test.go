package session

import (
	"testing"

	"app-server/netapproval"
)

func TestForbiddenRuleMatchesAnySegment(t *testing.T) {
	rules, err := netapproval.OpenRules("")
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.AddCommandRule([]string{"rm", "-rf"}, netapproval.CommandForbidden); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"rm -rf build", true},
		{"make && rm -rf build", true},
		{"echo hi; rm -rf /tmp/x", true},
		{"ls | rm -rf x", true},
		{"FOO=1 rm -rf x", true},
		{"echo $(rm -rf x)", true},
		{"(cd x && rm -rf y)", true},
		{"if true; then rm -rf x; fi", true},
		{"rm -rf x 2>/dev/null", true},
		{"rm -r build", false},
		{"echo 'rm -rf x'", false},
		{"make", false},
		{"rm -rf 'unbalanced", true}, // cannot be split: its words are checked
	} {
		if got := forbiddenByRule(rules, tc.line); got != tc.want {
			t.Errorf("forbiddenByRule(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

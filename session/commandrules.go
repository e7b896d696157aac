package session

import (
	"strings"

	"app-server/netapproval"
)

// forbiddenByRule reports whether a persisted forbidden prefix rule matches
// any simple command of the line (`make; rm -rf x` is caught by a rule on
// `rm`), not only the line as a whole. Leading variable assignments are
// skipped. It is best effort, like any reading of shell: a command hidden in
// a substitution or a variable is not seen. When the line cannot be split
// into commands, its blank-separated words are checked as one command.
func forbiddenByRule(rules *netapproval.Rules, line string) bool {
	match := func(argv []string) bool {
		for len(argv) > 0 && (shToken{raw: argv[0]}).isAssignment() {
			argv = argv[1:]
		}
		d, ok := rules.MatchCommand(argv)
		return ok && d == netapproval.CommandForbidden
	}
	l, ok := lexShell(line)
	if !ok {
		return match(strings.Fields(line))
	}
	for _, seg := range shSegments(line, l.tokens) {
		if match(seg.args) {
			return true
		}
	}
	return false
}

package session

import (
	"strings"

	"app-server/netapproval"
	"app-server/session/shellcmd"
)

// forbiddenByRule reports whether a persisted forbidden prefix rule matches
// any simple command of the line (`make; rm -rf x` and `echo $(rm -rf x)`
// are caught by a rule on `rm`), not only the line as a whole. When the
// line does not parse, its blank-separated words are checked as one
// command.
func forbiddenByRule(rules *netapproval.Rules, line string) bool {
	cmds, ok := shellcmd.SimpleCommands(line)
	if !ok {
		cmds = [][]string{strings.Fields(line)}
	}
	for _, argv := range cmds {
		if d, ok := rules.MatchCommand(argv); ok && d == netapproval.CommandForbidden {
			return true
		}
	}
	return false
}

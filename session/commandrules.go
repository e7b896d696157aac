package session

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"app-server/netapproval"
	"app-server/session/shellcmd"
)

// CommandDecision is what a persisted command prefix rule decides.
type CommandDecision uint8

const (
	CommandAllow     CommandDecision = iota + 1 // run without a command prompt
	CommandForbidden                            // decline without prompting
)

// commandDecisions are the rules file's spellings, one per decision.
var commandDecisions = map[string]CommandDecision{"allow": CommandAllow, "forbidden": CommandForbidden}

func (d CommandDecision) String() string {
	for name, v := range commandDecisions {
		if v == d {
			return name
		}
	}
	return fmt.Sprintf("CommandDecision(%d)", uint8(d))
}

// CommandRule is one persisted command prefix rule: a command whose argv
// starts with Prefix is allowed to run without a prompt, or forbidden.
type CommandRule struct {
	Prefix   []string
	Decision CommandDecision
	AddedAt  time.Time
}

// CommandRules holds the [[command]] rules of <home>/rules.toml. The file
// is shared with package netapproval's [[network]] rules: both rewrite it
// through netapproval.EditRulesFile (one lock, a fresh read, an atomic
// rewrite that keeps the other's section), so neither loses rules, also
// across two servers on one home.
type CommandRules struct {
	path string // "" keeps rules in memory only

	mu  sync.Mutex // serializes this process's changes
	cur atomic.Pointer[[]CommandRule]
}

// commandRulesFile is session's view of rules.toml.
type commandRulesFile struct {
	// Network is package netapproval's section, kept as read.
	Network []map[string]any  `toml:"network"`
	Command []fileCommandRule `toml:"command"`
}

type fileCommandRule struct {
	Prefix   []string  `toml:"prefix"`
	Decision string    `toml:"decision"`
	AddedAt  time.Time `toml:"added_at"`
}

// OpenCommandRules loads the command rules of the rules file at path; a
// missing file means no rules, and "" keeps rules in memory only. A file
// that does not parse is an error naming the file and line.
func OpenCommandRules(path string) (*CommandRules, error) {
	r := &CommandRules{path: path}
	var rules []CommandRule
	if path != "" {
		f, raw, err := netapproval.ReadRulesFile[commandRulesFile](path)
		if err == nil {
			rules, err = compileCommandRules(path, raw, f.Command)
		}
		if err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
	}
	r.cur.Store(&rules)
	return r, nil
}

// Match returns the decision of the rules for argv: a rule matches when
// its prefix is a prefix of argv. A matching forbidden rule wins over any
// matching allow rule, so a broad allow can never lift a narrower
// prohibition.
func (r *CommandRules) Match(argv []string) (CommandDecision, bool) {
	var found CommandDecision
	for _, c := range *r.cur.Load() {
		if len(c.Prefix) > len(argv) || !slices.Equal(c.Prefix, argv[:len(c.Prefix)]) {
			continue
		}
		if c.Decision == CommandForbidden {
			return CommandForbidden, true
		}
		found = c.Decision
	}
	return found, found != 0
}

// Add persists a command prefix rule. An identical rule already present
// changes nothing.
func (r *CommandRules) Add(prefix []string, d CommandDecision) error {
	if len(prefix) == 0 {
		return errors.New("session: empty command prefix")
	}
	if d != CommandAllow && d != CommandForbidden {
		return fmt.Errorf("session: invalid command decision %v", d)
	}
	add := func(rules []CommandRule) ([]CommandRule, bool) {
		for _, c := range rules {
			if c.Decision == d && slices.Equal(c.Prefix, prefix) {
				return rules, false
			}
		}
		return append(rules, CommandRule{Prefix: slices.Clone(prefix), Decision: d, AddedAt: time.Now().UTC().Truncate(time.Second)}), true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.path == "" {
		if next, changed := add(slices.Clone(*r.cur.Load())); changed {
			r.cur.Store(&next)
		}
		return nil
	}
	var next []CommandRule
	err := netapproval.EditRulesFile(r.path, func(f *commandRulesFile, raw []byte) (bool, error) {
		rules, err := compileCommandRules(r.path, raw, f.Command)
		if err != nil {
			return false, err
		}
		r.cur.Store(&rules) // what another server wrote counts even if nothing changes
		var changed bool
		if next, changed = add(slices.Clone(rules)); !changed {
			next = nil
			return false, nil
		}
		f.Command = f.Command[:0]
		for _, c := range next {
			f.Command = append(f.Command, fileCommandRule{Prefix: c.Prefix, Decision: c.Decision.String(), AddedAt: c.AddedAt})
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if next != nil {
		r.cur.Store(&next)
	}
	return nil
}

// compileCommandRules validates the file's entries (raw names the line of
// a bad one).
func compileCommandRules(path string, raw []byte, entries []fileCommandRule) ([]CommandRule, error) {
	rules := make([]CommandRule, 0, len(entries))
	for i, c := range entries {
		d, ok := commandDecisions[c.Decision]
		var err error
		switch {
		case len(c.Prefix) == 0:
			err = errors.New("empty prefix")
		case c.Decision == "":
			err = errors.New("missing decision (want allow or forbidden)")
		case !ok:
			err = fmt.Errorf("unknown decision %q (want allow or forbidden)", c.Decision)
		}
		if err != nil {
			return nil, netapproval.RulesEntryError(path, raw, "command", i, err)
		}
		rules = append(rules, CommandRule{Prefix: slices.Clone(c.Prefix), Decision: d, AddedAt: c.AddedAt})
	}
	return rules, nil
}

// forbiddenByRule reports whether a persisted forbidden prefix rule matches
// any simple command of the line (`make; rm -rf x` and `echo $(rm -rf x)`
// are caught by a rule on `rm`), not only the line as a whole. When the
// line does not parse, its blank-separated words are checked as one
// command.
func forbiddenByRule(rules *CommandRules, line string) bool {
	cmds, ok := shellcmd.SimpleCommands(line)
	if !ok {
		cmds = [][]string{strings.Fields(line)}
	}
	for _, argv := range cmds {
		if d, ok := rules.Match(argv); ok && d == CommandForbidden {
			return true
		}
	}
	return false
}

// List returns the rules, oldest first.
func (r *CommandRules) List() []CommandRule { return slices.Clone(*r.cur.Load()) }

// Remove deletes the rules whose prefix is exactly prefix, whatever their
// decision, and returns them.
func (r *CommandRules) Remove(prefix []string) ([]CommandRule, error) {
	split := func(rules []CommandRule) (kept, removed []CommandRule) {
		for _, c := range rules {
			if slices.Equal(c.Prefix, prefix) {
				removed = append(removed, c)
			} else {
				kept = append(kept, c)
			}
		}
		return kept, removed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.path == "" {
		kept, removed := split(*r.cur.Load())
		r.cur.Store(&kept)
		return removed, nil
	}
	var removed []CommandRule
	err := netapproval.EditRulesFile(r.path, func(f *commandRulesFile, raw []byte) (bool, error) {
		rules, err := compileCommandRules(r.path, raw, f.Command)
		if err != nil {
			return false, err
		}
		var kept []CommandRule
		kept, removed = split(rules)
		r.cur.Store(&kept)
		if len(removed) == 0 {
			return false, nil
		}
		f.Command = f.Command[:0]
		for _, c := range kept {
			f.Command = append(f.Command, fileCommandRule{Prefix: c.Prefix, Decision: c.Decision.String(), AddedAt: c.AddedAt})
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return removed, nil
}

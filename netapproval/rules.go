package netapproval

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// HostRule is one persisted network rule: every request to a host matching
// Host (a pattern, see Config.AllowedDomains) on any port and protocol is
// allowed or denied. Amendments write exact hosts; hand edits may use
// wildcards, except a deny "*".
type HostRule struct {
	Host    string
	Action  Action
	AddedAt time.Time
}

// Rules holds the [[network]] rules of the rules file (see rulesfile.go).
// Reads come from an in-memory snapshot, so a rule added by one thread
// applies to every thread at once. Changes go through EditRulesFile:
// locked, reloaded, rewritten atomically, so earlier rules are never lost
// and a crash leaves either the old or the new file.
type Rules struct {
	path string // "" keeps rules in memory only (tests, no home)

	// mu serializes changes made by this process; the lock file serializes
	// them against other processes. Reads never take it.
	mu sync.Mutex
	// cur is the current snapshot; replaced, never mutated.
	cur atomic.Pointer[ruleSnapshot]
	// onHostChange, if set, runs after the host rules changed, with no lock
	// held. Set once before use (by Manager).
	onHostChange func()
}

// ruleSnapshot is an immutable view of the rules with patterns compiled.
type ruleSnapshot struct {
	hosts []HostRule
	allow patternSet
	deny  patternSet
}

// rulesFile is this package's view of rules.toml.
type rulesFile struct {
	Network []fileHostRule `toml:"network"`
	// Command is package session's section, kept as read.
	Command []map[string]any `toml:"command"`
}

type fileHostRule struct {
	Host    string    `toml:"host"`
	Action  string    `toml:"action"`
	AddedAt time.Time `toml:"added_at"`
}

// OpenRules loads the network rules of the rules file at path; a missing
// file means no rules. A file that does not parse is an error naming the
// file and line; it is never replaced. An empty path keeps rules in memory
// only.
func OpenRules(path string) (*Rules, error) {
	r := &Rules{path: path}
	snap := &ruleSnapshot{}
	if path != "" {
		f, raw, err := ReadRulesFile[rulesFile](path)
		if err == nil {
			snap, err = compileHostRules(path, raw, f.Network)
		}
		if err != nil {
			return nil, fmt.Errorf("netapproval: %w", err)
		}
	}
	r.cur.Store(snap)
	return r, nil
}

// HostRules returns the persisted network rules, in file order.
func (r *Rules) HostRules() []HostRule { return slices.Clone(r.cur.Load().hosts) }

// AddHostRule persists a network rule for host (normalized as a pattern).
// Adding a rule that is already there changes nothing.
func (r *Rules) AddHostRule(host string, action Action) error {
	p, err := parsePattern(host)
	if err != nil {
		return err
	}
	if p.kind == patAny && action == ActionDeny {
		return errors.New(`netapproval: a deny rule for "*" is not allowed`)
	}
	if !actionNames.valid(action) {
		return fmt.Errorf("netapproval: invalid action %v", action)
	}
	return r.modify(func(hosts []HostRule) ([]HostRule, bool) {
		for _, h := range hosts {
			if h.Host == p.text && h.Action == action {
				return hosts, false
			}
		}
		return append(hosts, HostRule{Host: p.text, Action: action, AddedAt: time.Now().UTC().Truncate(time.Second)}), true
	})
}

// RemoveHostRules removes the network rules for which match returns true
// and returns them.
func (r *Rules) RemoveHostRules(match func(HostRule) bool) ([]HostRule, error) {
	var removed []HostRule
	err := r.modify(func(hosts []HostRule) ([]HostRule, bool) {
		removed = nil
		hosts = slices.DeleteFunc(hosts, func(h HostRule) bool {
			if match(h) {
				removed = append(removed, h)
				return true
			}
			return false
		})
		return hosts, len(removed) > 0
	})
	return removed, err
}

// modify is the one mutation path: lock, reload, change, rewrite, publish.
// change reports whether it changed anything; if not, nothing is written.
func (r *Rules) modify(change func([]HostRule) ([]HostRule, bool)) error {
	r.mu.Lock()
	changed, err := r.modifyLocked(change)
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("netapproval: %w", err)
	}
	if changed && r.onHostChange != nil {
		r.onHostChange()
	}
	return nil
}

func (r *Rules) modifyLocked(change func([]HostRule) ([]HostRule, bool)) (bool, error) {
	if r.path == "" {
		hosts, changed := change(slices.Clone(r.cur.Load().hosts))
		if changed {
			r.cur.Store(newRuleSnapshot(hosts))
		}
		return changed, nil
	}
	var next *ruleSnapshot
	err := EditRulesFile(r.path, func(f *rulesFile, raw []byte) (bool, error) {
		snap, err := compileHostRules(r.path, raw, f.Network)
		if err != nil {
			return false, err
		}
		r.cur.Store(snap) // what another server wrote counts even if nothing changes
		hosts, changed := change(slices.Clone(snap.hosts))
		if !changed {
			return false, nil
		}
		f.Network = f.Network[:0]
		for _, h := range hosts {
			f.Network = append(f.Network, fileHostRule{Host: h.Host, Action: h.Action.String(), AddedAt: h.AddedAt})
		}
		next = newRuleSnapshot(hosts)
		return true, nil
	})
	if err != nil || next == nil {
		return false, err
	}
	r.cur.Store(next)
	return true, nil
}

// compileHostRules validates the file's entries (raw, when given, names the
// line of a bad one) and builds the snapshot.
func compileHostRules(path string, raw []byte, entries []fileHostRule) (*ruleSnapshot, error) {
	hosts := make([]HostRule, 0, len(entries))
	for i, h := range entries {
		p, err := parsePattern(h.Host)
		action, ok := actionNames.parse(h.Action)
		switch {
		case err != nil:
		case h.Action == "":
			err = errors.New("missing action (want allow or deny)")
		case !ok:
			err = fmt.Errorf("unknown action %q (want allow or deny)", h.Action)
		case p.kind == patAny && action == ActionDeny:
			err = errors.New(`a deny rule for "*" is not allowed`)
		}
		if err != nil {
			return nil, RulesEntryError(path, raw, "network", i, err)
		}
		hosts = append(hosts, HostRule{Host: p.text, Action: action, AddedAt: h.AddedAt})
	}
	return newRuleSnapshot(hosts), nil
}

// newRuleSnapshot compiles valid rules.
func newRuleSnapshot(hosts []HostRule) *ruleSnapshot {
	snap := &ruleSnapshot{hosts: hosts}
	for _, h := range hosts {
		p, _ := parsePattern(h.Host)
		if h.Action == ActionAllow {
			snap.allow = snap.allow.with(p)
		} else {
			snap.deny = snap.deny.with(p)
		}
	}
	return snap
}

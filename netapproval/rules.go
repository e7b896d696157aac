package netapproval

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pelletier/go-toml/v2"
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

// CommandRule is one persisted command prefix rule: a command whose argv
// starts with Prefix is allowed to run without a prompt, or forbidden.
// Package session interprets these; here they are plain data.
type CommandRule struct {
	Prefix   []string
	Decision CommandDecision
	AddedAt  time.Time
}

// Rules is the persisted rules file, <home>/rules.toml. Reads come from an
// in-memory snapshot, so a rule added by one thread applies to every thread
// at once. Each change is a read-modify-write under an exclusive lock file,
// reloading what another server wrote first, and a rewrite that is atomic
// (temporary file in the same directory, fsync, rename, fsync of the
// directory), so earlier rules are never lost and a crash leaves either the
// old or the new file.
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

// ruleSnapshot is an immutable view of the file with host patterns compiled.
type ruleSnapshot struct {
	hosts    []HostRule
	commands []CommandRule
	allow    patternSet
	deny     patternSet
}

// rulesFile is the TOML shape of rules.toml.
type rulesFile struct {
	Network []fileHostRule    `toml:"network"`
	Command []fileCommandRule `toml:"command"`
}

type fileHostRule struct {
	Host    string    `toml:"host"`
	Action  Action    `toml:"action"`
	AddedAt time.Time `toml:"added_at"`
}

type fileCommandRule struct {
	Prefix   []string        `toml:"prefix"`
	Decision CommandDecision `toml:"decision"`
	AddedAt  time.Time       `toml:"added_at"`
}

const rulesHeader = "# Persisted network and command rules of app-server.\n" +
	"# app-server rewrites this file atomically; rules added by hand are kept, comments are not.\n\n"

// OpenRules loads the rules file at path; a missing file means no rules.
// A file that does not parse is an error naming the file and line; it is
// never replaced. An empty path keeps rules in memory only.
func OpenRules(path string) (*Rules, error) {
	r := &Rules{path: path}
	snap := &ruleSnapshot{}
	if path != "" {
		var err error
		if snap, err = r.read(); err != nil {
			return nil, err
		}
	}
	r.cur.Store(snap)
	return r, nil
}

// Path returns the file path ("" for in-memory rules).
func (r *Rules) Path() string { return r.path }

// HostRules returns the persisted network rules, in file order.
func (r *Rules) HostRules() []HostRule { return slices.Clone(r.cur.Load().hosts) }

// CommandRules returns the persisted command rules, in file order. The
// Prefix slices are copies.
func (r *Rules) CommandRules() []CommandRule {
	rules := slices.Clone(r.cur.Load().commands)
	for i := range rules {
		rules[i].Prefix = slices.Clone(rules[i].Prefix)
	}
	return rules
}

// MatchCommand returns the decision of the persisted command rules for
// argv: a rule matches when its prefix is a prefix of argv. A matching
// forbidden rule wins over any matching allow rule, so a broad allow can
// never lift a narrower prohibition.
func (r *Rules) MatchCommand(argv []string) (CommandDecision, bool) {
	var found CommandDecision
	for _, c := range r.cur.Load().commands {
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

// Reload rereads the file, picking up what another server wrote.
func (r *Rules) Reload() error {
	if r.path == "" {
		return nil
	}
	r.mu.Lock()
	snap, err := r.read()
	if err == nil {
		r.cur.Store(snap)
	}
	r.mu.Unlock()
	if err == nil {
		r.hostsChanged()
	}
	return err
}

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
	if action != ActionAllow && action != ActionDeny {
		return fmt.Errorf("netapproval: invalid action %v", action)
	}
	return r.modify(true, func(f *rulesFile) bool {
		for _, h := range f.Network {
			if h.Host == p.text && h.Action == action {
				return false
			}
		}
		f.Network = append(f.Network, fileHostRule{Host: p.text, Action: action, AddedAt: time.Now().UTC().Truncate(time.Second)})
		return true
	})
}

// RemoveHostRules removes the network rules for which match returns true
// and returns them.
func (r *Rules) RemoveHostRules(match func(HostRule) bool) ([]HostRule, error) {
	var removed []HostRule
	err := r.modify(true, func(f *rulesFile) bool {
		removed = nil
		f.Network = slices.DeleteFunc(f.Network, func(h fileHostRule) bool {
			hr := HostRule(h)
			if match(hr) {
				removed = append(removed, hr)
				return true
			}
			return false
		})
		return len(removed) > 0
	})
	return removed, err
}

// AddCommandRule persists a command prefix rule. An identical rule already
// present changes nothing.
func (r *Rules) AddCommandRule(prefix []string, d CommandDecision) error {
	if len(prefix) == 0 {
		return errors.New("netapproval: empty command prefix")
	}
	if d != CommandAllow && d != CommandForbidden {
		return fmt.Errorf("netapproval: invalid command decision %v", d)
	}
	return r.modify(false, func(f *rulesFile) bool {
		for _, c := range f.Command {
			if c.Decision == d && slices.Equal(c.Prefix, prefix) {
				return false
			}
		}
		f.Command = append(f.Command, fileCommandRule{Prefix: slices.Clone(prefix), Decision: d, AddedAt: time.Now().UTC().Truncate(time.Second)})
		return true
	})
}

// modify is the one mutation path: lock, reload, change, rewrite, publish.
// change reports whether it changed anything; if not, nothing is written.
func (r *Rules) modify(hosts bool, change func(*rulesFile) bool) error {
	r.mu.Lock()
	changed, err := r.modifyLocked(change)
	r.mu.Unlock()
	if err == nil && changed && hosts {
		r.hostsChanged()
	}
	return err
}

func (r *Rules) modifyLocked(change func(*rulesFile) bool) (bool, error) {
	if r.path == "" {
		f := r.cur.Load().toFile()
		if !change(f) {
			return false, nil
		}
		snap, err := f.compile(r.path, nil)
		if err != nil {
			return false, err
		}
		r.cur.Store(snap)
		return true, nil
	}
	lock, err := lockFile(r.path + ".lock")
	if err != nil {
		return false, err
	}
	defer lock.unlock()
	// Reload under the lock: another server may have added rules since we
	// last read, and rewriting from a stale copy would drop them.
	snap, err := r.read()
	if err != nil {
		return false, err
	}
	f := snap.toFile()
	if !change(f) {
		r.cur.Store(snap)
		return false, nil
	}
	next, err := f.compile(r.path, nil)
	if err != nil {
		return false, err
	}
	data, err := toml.Marshal(f)
	if err != nil {
		return false, fmt.Errorf("netapproval: encode %s: %w", r.path, err)
	}
	if err := writeFileAtomic(r.path, append([]byte(rulesHeader), data...)); err != nil {
		return false, err
	}
	r.cur.Store(next)
	return true, nil
}

func (r *Rules) hostsChanged() {
	if r.onHostChange != nil {
		r.onHostChange()
	}
}

// read parses the file; a missing file is empty.
func (r *Rules) read() (*ruleSnapshot, error) {
	data, err := os.ReadFile(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &ruleSnapshot{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netapproval: read rules file: %w", err)
	}
	var f rulesFile
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, fmt.Errorf("netapproval: rules file %s line %d: %s", r.path, line, strings.TrimPrefix(de.Error(), "toml: "))
		}
		var se *toml.StrictMissingError
		if errors.As(err, &se) && len(se.Errors) > 0 {
			line, _ := se.Errors[0].Position()
			return nil, fmt.Errorf("netapproval: rules file %s line %d: unknown key %s", r.path, line, strings.Join(se.Errors[0].Key(), "."))
		}
		return nil, fmt.Errorf("netapproval: rules file %s: %w", r.path, err)
	}
	return f.compile(r.path, data)
}

// compile validates the entries and builds the snapshot. raw, when given,
// is the file text, used to name the line of an invalid entry.
func (f *rulesFile) compile(path string, raw []byte) (*ruleSnapshot, error) {
	snap := &ruleSnapshot{}
	for i, h := range f.Network {
		p, err := parsePattern(h.Host)
		if err == nil && h.Action == 0 {
			err = errors.New("missing action (want allow or deny)")
		}
		if err == nil && p.kind == patAny && h.Action == ActionDeny {
			err = errors.New(`a deny rule for "*" is not allowed`)
		}
		if err != nil {
			return nil, entryError(path, raw, "network", i, err)
		}
		switch h.Action {
		case ActionAllow:
			snap.allow = snap.allow.with(p)
		case ActionDeny:
			snap.deny = snap.deny.with(p)
		}
		snap.hosts = append(snap.hosts, HostRule{Host: p.text, Action: h.Action, AddedAt: h.AddedAt})
	}
	for i, c := range f.Command {
		var err error
		switch {
		case len(c.Prefix) == 0:
			err = errors.New("empty prefix")
		case c.Decision == 0:
			err = errors.New("missing decision (want allow or forbidden)")
		}
		if err != nil {
			return nil, entryError(path, raw, "command", i, err)
		}
		snap.commands = append(snap.commands, CommandRule{Prefix: slices.Clone(c.Prefix), Decision: c.Decision, AddedAt: c.AddedAt})
	}
	return snap, nil
}

// entryError names the file and, when the entry's [[table]] header can be
// found in raw, its line.
func entryError(path string, raw []byte, table string, index int, err error) error {
	header := "[[" + table + "]]"
	seen := 0
	for n, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), header) {
			if seen == index {
				return fmt.Errorf("netapproval: rules file %s line %d: %s entry %d: %w", path, n+1, table, index+1, err)
			}
			seen++
		}
	}
	return fmt.Errorf("netapproval: rules file %s: %s entry %d: %w", path, table, index+1, err)
}

// toFile converts a snapshot back to the file shape for rewriting.
func (s *ruleSnapshot) toFile() *rulesFile {
	f := &rulesFile{}
	for _, h := range s.hosts {
		f.Network = append(f.Network, fileHostRule(h))
	}
	for _, c := range s.commands {
		f.Command = append(f.Command, fileCommandRule{Prefix: slices.Clone(c.Prefix), Decision: c.Decision, AddedAt: c.AddedAt})
	}
	return f
}

// writeFileAtomic replaces path with data so that readers and crashes see
// either the old or the new content, never a truncated file.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("netapproval: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("netapproval: write %s: %w", path, err)
	}
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("netapproval: write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("netapproval: sync %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("netapproval: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("netapproval: replace %s: %w", path, err)
	}
	// The rename is durable only once the directory entry is synced.
	d, derr := os.Open(dir)
	if derr != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync() // best effort: some filesystems refuse fsync on directories
	return nil
}

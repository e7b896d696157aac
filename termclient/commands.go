package termclient

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"app-server/protocol"
)

// slashCommand is a line the client handles itself.
type slashCommand struct {
	name, args, summary string
	run                 func(s *session, args []string)
}

// slashCommands is the table of commands (set in init: /help prints it).
var slashCommands []slashCommand

func init() {
	slashCommands = []slashCommand{
		{"/grants", "", "list what is remembered: this thread's network allows and denies and the persistent host rules (network/grants/list), then the commands accepted for the session and the persistent command rules (command/rules/list)", cmdGrants},
		{"/revoke", "[--persistent] HOST[:PORT]", "forget this thread's allows and denies for HOST (only PORT's if given); with --persistent (-p), the persistent rules for HOST instead (network/grants/revoke). The next request prompts again", cmdRevoke},
		{"/revoke", "[--persistent] --command WORDS...", "forget the session approval of the command line WORDS; with --persistent, the persistent command rule whose prefix is WORDS (command/rules/revoke)", cmdRevoke},
		{"/threads", "", "list the 20 most recent threads; * marks this one (thread/list)", cmdThreads},
		{"/resume", "ID", "switch to thread ID, or a unique prefix of it (thread/resume)", cmdResume},
		{"/status", "", "show the state line again: policy, sandbox, network, prompt timeout", cmdStatus},
		{"/help", "", "show keys and commands", cmdHelp},
		{"/quit", "", "quit (also /exit)", cmdQuit},
	}
}

// parseCommand reports whether line is a /command: its first word is one
// of the table's names, or starts with "/" and names no file (a typo,
// answered with an error). Any other line, /usr/bin/env included, is a
// turn.
func parseCommand(line string) (*slashCommand, []string, bool) {
	f := strings.Fields(line)
	if len(f) == 0 || !strings.HasPrefix(f[0], "/") {
		return nil, nil, false
	}
	name := f[0]
	if name == "/exit" {
		name = "/quit"
	}
	for i := range slashCommands {
		if slashCommands[i].name == name {
			return &slashCommands[i], f[1:], true
		}
	}
	if _, err := os.Stat(name); err == nil {
		return nil, nil, false // a program given by its path
	}
	unknown := func(s *session, _ []string) {
		s.r.errorf("unknown command %s, and no such file (/help lists the commands)", name)
	}
	return &slashCommand{name: name, run: unknown}, f[1:], true
}

func cmdGrants(s *session, _ []string) {
	var net protocol.NetworkGrantsListResponse
	if err := s.call(protocol.MethodGrantsList, protocol.NetworkGrantsListParams{ThreadID: s.threadID}, &net); err != nil {
		s.r.errorf("network/grants/list: %v", err)
		return
	}
	var cmds protocol.CommandRulesListResponse
	if err := s.call(protocol.MethodCommandRulesList, protocol.CommandRulesListParams{ThreadID: s.threadID}, &cmds); err != nil {
		s.r.errorf("command/rules/list: %v", err)
		return
	}
	s.r.grants(net.Grants)
	s.r.commandRules(cmds.Rules)
}

// revokeUsage is /revoke's usage, for its errors.
const revokeUsage = "usage: /revoke [--persistent] HOST[:PORT], or /revoke [--persistent] --command WORDS..."

func cmdRevoke(s *session, args []string) {
	r, err := parseRevoke(args)
	if err != nil {
		s.r.errorf("%v (%s)", err, revokeUsage)
		return
	}
	if r.command != nil {
		p := r.command
		p.ThreadID = s.threadID
		var resp protocol.CommandRulesRevokeResponse
		if err := s.call(protocol.MethodCommandRulesRevoke, p, &resp); err != nil {
			s.r.errorf("command/rules/revoke: %v", err)
			return
		}
		s.r.revoked(len(resp.Revoked), "command ", p.Scope, strings.Join(r.words, " "), formatCommandRules(resp.Revoked, s.r.now()))
		return
	}
	p := r.network
	p.ThreadID = s.threadID
	var resp protocol.NetworkGrantsRevokeResponse
	if err := s.call(protocol.MethodGrantsRevoke, p, &resp); err != nil {
		s.r.errorf("network/grants/revoke: %v", err)
		return
	}
	target := strings.Join(args, " ")
	s.r.revoked(len(resp.Revoked), "", p.Scope, target, formatGrants(resp.Revoked, s.r.now()))
	if len(resp.Revoked) == 0 && p.Scope == protocol.ScopeSession {
		// Say so when what the user meant is a persistent rule.
		var list protocol.NetworkGrantsListResponse
		if s.call(protocol.MethodGrantsList, protocol.NetworkGrantsListParams{ThreadID: s.threadID}, &list) == nil {
			for _, g := range list.Grants {
				if g.Scope == protocol.ScopePersistent && strings.EqualFold(g.Host, p.Host) {
					s.r.info("a persistent rule matches: /revoke --persistent " + p.Host)
					break
				}
			}
		}
	}
}

// revokeRequest is a parsed /revoke: network grants of a host, or command
// rules (words: what followed --command).
type revokeRequest struct {
	network *protocol.NetworkGrantsRevokeParams
	command *protocol.CommandRulesRevokeParams
	words   []string
}

// parseRevoke parses /revoke's arguments into its params (without the
// thread id). After --command the rest of the line is the command: a
// session approval's command line, or a persistent rule's prefix.
func parseRevoke(args []string) (revokeRequest, error) {
	scope := protocol.ScopeSession
	var target string
	for i, a := range args {
		switch {
		case a == "--persistent" || a == "-p":
			scope = protocol.ScopePersistent
		case a == "--command":
			words := args[i+1:]
			if len(words) == 0 {
				return revokeRequest{}, errors.New("which command?")
			}
			if target != "" {
				return revokeRequest{}, errors.New("a host or --command, not both")
			}
			p := &protocol.CommandRulesRevokeParams{Scope: scope}
			if scope == protocol.ScopePersistent {
				p.Prefix = words
			} else {
				line := strings.Join(words, " ")
				p.Command = &line
			}
			return revokeRequest{command: p, words: words}, nil
		case strings.HasPrefix(a, "-"):
			return revokeRequest{}, fmt.Errorf("unknown option %s", a)
		case target != "":
			return revokeRequest{}, errors.New("one host at a time")
		default:
			target = a
		}
	}
	if target == "" {
		return revokeRequest{}, errors.New("which host?")
	}
	host, port, err := splitHostPort(target)
	if err != nil {
		return revokeRequest{}, err
	}
	if port != nil && scope == protocol.ScopePersistent {
		return revokeRequest{}, errors.New("persistent rules cover every port: give the host only")
	}
	return revokeRequest{network: &protocol.NetworkGrantsRevokeParams{Host: host, Port: port, Scope: scope}}, nil
}

// splitHostPort splits "host", "host:port", "[v6]:port" or a bare IPv6
// address.
func splitHostPort(t string) (string, *uint16, error) {
	if h, ps, err := net.SplitHostPort(t); err == nil {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return "", nil, fmt.Errorf("bad port %q", ps)
		}
		port := uint16(n)
		return h, &port, nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
	if h == "" {
		return "", nil, errors.New("empty host")
	}
	return h, nil, nil
}

// threadsShown is how many threads /threads shows; threadsKnown is how
// many recent threads /threads and /resume tell apart by prefix.
const (
	threadsShown = 20
	threadsKnown = 100
)

func cmdThreads(s *session, _ []string) {
	list, more, err := s.recentThreads()
	if err != nil {
		s.r.errorf("thread/list: %v", err)
		return
	}
	short := shortPrefixes(threadIDs(list))
	if len(list) > threadsShown {
		list, more = list[:threadsShown], true
	}
	s.r.threads(list, s.threadID, short)
	if more {
		s.r.info(fmt.Sprintf("(the %d most recent; older threads not shown)", threadsShown))
	}
	s.r.info("/resume takes the RESUME prefix, or any longer one")
}

// recentThreads lists the threadsKnown most recent threads; more says
// there are older ones.
func (s *session) recentThreads() (list []protocol.Thread, more bool, err error) {
	limit := uint32(threadsKnown)
	var resp protocol.ThreadListResponse
	if err := s.call(protocol.MethodThreadList, protocol.ThreadListParams{Limit: &limit}, &resp); err != nil {
		return nil, false, err
	}
	return resp.Data, resp.NextCursor != nil, nil
}

func threadIDs(list []protocol.Thread) []string {
	ids := make([]string, len(list))
	for i, t := range list {
		ids[i] = t.ID
	}
	return ids
}

// shortPrefixes returns the shortest prefix of each id that no other id
// has: counted from where the ids differ, one character past the longest
// prefix it shares with another (and never ending on a '-'). Thread ids are
// UUIDv7, whose leading characters are a timestamp that recent threads
// share, so the prefix is as long as it needs to be, no longer.
func shortPrefixes(ids []string) map[string]string {
	short := make(map[string]string, len(ids))
	for i, id := range ids {
		n := 1
		for j, other := range ids {
			if i != j && other != id {
				n = max(n, commonPrefixLen(id, other)+1)
			}
		}
		for n < len(id) && id[n-1] == '-' {
			n++
		}
		short[id] = id[:min(n, len(id))]
	}
	return short
}

func commonPrefixLen(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func cmdResume(s *session, args []string) {
	if len(args) != 1 {
		s.r.errorf("usage: /resume ID (see /threads)")
		return
	}
	id, err := s.resolveThreadID(args[0])
	if err != nil {
		s.r.errorf("%v", err)
		return
	}
	p := protocol.ThreadResumeParams{ThreadID: id}
	if s.opts.approvalPolicy != "" {
		pol := protocol.AskForApproval(s.opts.approvalPolicy)
		p.ApprovalPolicy = &pol
	}
	var resp protocol.ThreadResumeResponse
	if err := s.call(protocol.MethodThreadResume, p, &resp); err != nil {
		s.r.errorf("thread/resume: %v", err)
		return
	}
	s.threadID, s.ephemeral, s.settings = resp.Thread.ID, resp.Thread.Ephemeral, resp.ThreadSettings
	s.r.resumed(resp)
}

// resolveThreadID returns the thread id that prefix names: itself when it
// is a whole id, else the one recent thread (of threadsKnown) starting
// with it.
func (s *session) resolveThreadID(prefix string) (string, error) {
	list, _, err := s.recentThreads()
	if err != nil {
		return prefix, nil // let thread/resume say what is wrong
	}
	var found []string
	for _, t := range list {
		if t.ID == prefix {
			return prefix, nil
		}
		if strings.HasPrefix(t.ID, prefix) {
			found = append(found, t.ID)
		}
	}
	switch len(found) {
	case 0:
		return prefix, nil
	case 1:
		return found[0], nil
	}
	short := shortPrefixes(threadIDs(list))
	var hints []string
	for _, id := range found[:min(len(found), 3)] {
		hints = append(hints, short[id])
	}
	return "", fmt.Errorf("%q matches %d threads; type more of the id (%s, ... see /threads)", prefix, len(found), strings.Join(hints, ", "))
}

func cmdStatus(s *session, _ []string) { s.r.status(s.threadID, s.state()) }

func cmdHelp(s *session, _ []string) {
	var b strings.Builder
	writeKeysAndCommands(&b)
	s.r.block(b.String())
}

func cmdQuit(s *session, _ []string) { s.quit(ExitOK) }

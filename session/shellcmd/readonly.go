package shellcmd

import (
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Verdict is what Classify knows about a command line.
type Verdict int

const (
	// MayWrite: not known to be read-only. The untrusted approval policy
	// prompts.
	MayWrite Verdict = iota
	// ReadOnly: known not to change anything.
	ReadOnly
	// ReadsRepository: git reading a repository (status, diff, log, show).
	// Read-only only if the repository cannot make git run programs of its
	// choosing (core.fsmonitor, pagers, external diff and textconv
	// drivers, filters, hooks): RepositoryIsInert tells.
	ReadsRepository
)

// Classify reports whether commandLine is a single simple command known
// not to change anything, so that the untrusted approval policy can run it
// without a prompt. It is deliberately narrow: MayWrite only costs a
// prompt, a wrong ReadOnly runs a command unasked.
//
// Anything but MayWrite requires one command and nothing else: no
// redirection, pipe, list (;, &&, ||, newline), background &, subshell or
// other compound command, command or process substitution (even inside
// double quotes), arithmetic or other expansion that can run or assign
// (only plain $NAME and ${NAME} pass), comment, or leading variable
// assignment (PAGER=x git log). The program must be written as a bare name
// (./ls could be anything) from this set: ls, cat, pwd, echo, grep, rg,
// head, tail, wc, which, whoami, true, false (ReadOnly), and git with the
// subcommand status, diff, log or show right after it (ReadsRepository).
// Options that make those write or run other programs are refused: git
// --output and --ext-diff, rg --pre. For git and rg every argument must
// also be literal, since a glob or variable could expand into such an
// option (a file named --output=x in the directory, for example). Other
// arguments of the simple tools may use globs and variables: whatever they
// expand to, those tools only read.
//
// It is a pure function, safe for concurrent use.
func Classify(commandLine string) Verdict {
	p, ok := parseOne(commandLine)
	if !ok || p.runsCode() {
		return MayWrite
	}
	call := p.file.Stmts[0].Cmd.(*syntax.CallExpr)
	words := p.readWords(call.Args)
	prog, args := words[0], words[1:]
	if !prog.literal {
		return MayWrite
	}
	switch prog.value {
	case "ls", "cat", "pwd", "echo", "grep", "head", "tail", "wc", "which", "whoami", "true", "false":
		return ReadOnly
	case "rg":
		if allLiteral(args) && !slices.ContainsFunc(args, func(a word) bool {
			name, _, _ := strings.Cut(a.value, "=")
			return name == "--pre"
		}) {
			return ReadOnly
		}
	case "git":
		if len(args) == 0 || !allLiteral(args) {
			return MayWrite
		}
		switch args[0].value {
		case "status", "diff", "log", "show":
		default:
			return MayWrite
		}
		if !slices.ContainsFunc(args[1:], func(a word) bool {
			return gitOptionIs(a.value, "--output") || gitOptionIs(a.value, "--ext-diff")
		}) {
			return ReadsRepository
		}
	}
	return MayWrite
}

// parseOne parses a line that is one plain simple command: no list,
// pipeline, background, negation, redirection, leading assignment,
// compound command or comment. Its command has at least one word.
func parseOne(commandLine string) (parsed, bool) {
	p, err := parse(commandLine)
	if err != nil || len(p.file.Stmts) != 1 || p.hasComments() {
		return parsed{}, false
	}
	st := p.file.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || st.Coprocess || st.Disown || len(st.Redirs) > 0 ||
		len(call.Assigns) > 0 || len(call.Args) == 0 {
		return parsed{}, false
	}
	return p, true
}

// gitOptionIs reports whether arg names the long option opt or one that
// starts with it, or is a prefix of it that git could take as an
// abbreviation (git accepts unambiguous prefixes of long options).
func gitOptionIs(arg, opt string) bool {
	name, _, _ := strings.Cut(arg, "=")
	return strings.HasPrefix(name, opt) || (len(name) >= 4 && strings.HasPrefix(opt, name))
}

func allLiteral(ws []word) bool {
	return !slices.ContainsFunc(ws, func(w word) bool { return !w.literal })
}

// SplitArgv splits commandLine into the argv the shell would run, honouring
// quotes and backslashes. ok is false when the line is more than plain
// words: operators (;, &&, |, redirections, &...), substitutions,
// variables, globs (*?[), tilde or brace expansion, comments, a leading
// variable assignment, unbalanced quotes, or no word at all. The command
// policy uses the result to match and propose argv prefix rules, which
// only mean something for such literal commands.
//
// It is a pure function, safe for concurrent use.
func SplitArgv(commandLine string) ([]string, bool) {
	p, ok := parseOne(commandLine)
	if !ok {
		return nil, false
	}
	words := p.readWords(p.file.Stmts[0].Cmd.(*syntax.CallExpr).Args)
	if !allLiteral(words) {
		return nil, false
	}
	return values(words), true
}

package shellcmd

import (
	"slices"
	"strings"
)

// IsKnownReadOnly reports whether commandLine is a single simple command
// known not to change anything, so that the untrusted approval policy can
// run it without a prompt. It is deliberately narrow: a false answer only
// costs a prompt, a wrong true answer runs a command unasked.
//
// True requires one command and nothing else: no redirection, pipe, list
// (;, &&, ||, newline), background &, subshell, command substitution
// (backquotes or $(, even inside double quotes) or other expansion that can
// run or assign ($((, ${x:=y}; only plain $NAME and ${NAME} pass), comment,
// or leading variable assignment (PAGER=x git log). The program must be written as a
// bare name (./ls could be anything) from this set: ls, cat, pwd, echo,
// grep, rg, head, tail, wc, which, whoami, true, false, and git with the
// subcommand status, diff, log or show right after it. Options that make
// those write or run other programs are refused: git --output and
// --ext-diff, rg --pre. For git and rg every argument must also be literal,
// since a glob or variable could expand into such an option (a file named
// --output=x in the directory, for example). Other arguments of the simple
// tools may use globs and variables: whatever they expand to, those tools
// only read.
//
// It is a pure function, safe for concurrent use.
func IsKnownReadOnly(commandLine string) bool {
	l, ok := lexShell(commandLine)
	if !ok || l.subst || l.comment {
		return false
	}
	for _, t := range l.tokens {
		if t.op != "" {
			return false
		}
	}
	if len(l.tokens) == 0 {
		return false
	}
	prog, args := l.tokens[0], l.tokens[1:]
	if !prog.literal || prog.isAssignment() {
		return false
	}
	switch prog.word {
	case "ls", "cat", "pwd", "echo", "grep", "head", "tail", "wc", "which", "whoami", "true", "false":
		return true
	case "rg":
		return allLiteral(args) && !slices.ContainsFunc(args, func(a shToken) bool {
			name, _, _ := strings.Cut(a.word, "=")
			return name == "--pre"
		})
	case "git":
		if len(args) == 0 || !allLiteral(args) {
			return false
		}
		switch args[0].word {
		case "status", "diff", "log", "show":
		default:
			return false
		}
		return !slices.ContainsFunc(args[1:], func(a shToken) bool {
			return gitOptionIs(a.word, "--output") || gitOptionIs(a.word, "--ext-diff")
		})
	}
	return false
}

// gitOptionIs reports whether arg names the long option opt or one that
// starts with it, or is a prefix of it that git could take as an
// abbreviation (git accepts unambiguous prefixes of long options).
func gitOptionIs(arg, opt string) bool {
	name, _, _ := strings.Cut(arg, "=")
	return strings.HasPrefix(name, opt) || (len(name) >= 4 && strings.HasPrefix(opt, name))
}

func allLiteral(ts []shToken) bool {
	return !slices.ContainsFunc(ts, func(t shToken) bool { return !t.literal })
}

// SplitArgv splits commandLine into the argv the shell would run, honouring
// quotes and backslashes. ok is false when the line is more than plain
// words: operators (;, &&, |, redirections, &...), command substitution,
// variables, globs (*?[), tilde or brace expansion, comments, a leading
// variable assignment, unbalanced quotes, or no word at all. The command
// policy uses the result to match and propose argv prefix rules, which
// only mean something for such literal commands.
//
// It is a pure function, safe for concurrent use.
func SplitArgv(commandLine string) ([]string, bool) {
	l, ok := lexShell(commandLine)
	if !ok || l.subst || l.comment || len(l.tokens) == 0 {
		return nil, false
	}
	argv := make([]string, 0, len(l.tokens))
	for _, t := range l.tokens {
		if t.op != "" || !t.literal {
			return nil, false
		}
		argv = append(argv, t.word)
	}
	if l.tokens[0].isAssignment() {
		return nil, false
	}
	return argv, true
}

// shToken is a word or an operator of a shell command line.
type shToken struct {
	// op is the operator ("|", "&&", ";", "\n", ">", "<<", "(", ...), or
	// "" for a word.
	op string
	// word is the word with quotes and backslashes removed.
	word string
	// raw is the token as written; start and end are its byte offsets.
	raw        string
	start, end int
	// literal: the shell passes word on as it is, without parameter,
	// command, tilde, brace or glob expansion.
	literal bool
}

// isAssignment reports whether the word is NAME=value as written, which
// the shell takes as a variable assignment when it precedes the command.
func (t shToken) isAssignment() bool {
	name, _, ok := strings.Cut(t.raw, "=")
	if !ok || name == "" || t.op != "" {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isRedirect reports whether the operator is a redirection.
func isRedirect(op string) bool { return strings.ContainsAny(op, "<>") }

// shLine is a lexed command line.
type shLine struct {
	tokens []shToken
	// subst: the line has, outside single quotes, a command substitution
	// (backquotes, $(...)) or another expansion that can run or assign
	// (see dollarRuns).
	subst bool
	// comment: an unquoted # started a comment.
	comment bool
}

// dollarRuns reports whether the expansion that s starts with ($...) can
// run commands or assign: command substitution $(...), arithmetic $((...))
// and $[...], and any ${...} other than a plain ${NAME}. Operators inside
// braces (${x:=y}, ${x@P}, ${a[i]}) assign, expand prompt strings or
// evaluate subscripts as arithmetic, which in bash can run a command
// substitution held in a variable's value.
func dollarRuns(s string) bool {
	if len(s) < 2 {
		return false
	}
	switch s[1] {
	case '(', '[':
		return true
	case '{':
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return true
		}
		name := s[2:end]
		if len(name) == 1 && strings.Contains("#?$!@*-0123456789", name) {
			return false
		}
		return !(shToken{raw: name + "="}).isAssignment()
	}
	return false
}

// shOperators are the POSIX and bash control and redirection operators,
// longest first so that the first match is the longest.
var shOperators = []string{
	"&>>", "<<<", "<<-",
	"&&", "||", ";;", "|&", "<<", ">>", "<&", ">&", "<>", ">|", "&>",
	"|", "&", ";", "<", ">", "(", ")",
}

// lexShell splits a command line into words and operators the way a POSIX
// shell's tokenizer does (quotes, backslashes, operators, comments), and
// notes what expansions the words hold. It does not expand anything. ok is
// false for an unterminated quote or a trailing backslash. Here-document
// bodies are not recognized: they lex as further lines.
func lexShell(line string) (l shLine, ok bool) {
	var (
		cur    strings.Builder
		inWord bool
		start  int
		lit    bool
		brace  bool // an unquoted { in the word
	)
	begin := func(i int) {
		if !inWord {
			inWord, start, lit, brace = true, i, true, false
		}
	}
	end := func(i int) {
		if !inWord {
			return
		}
		raw := line[start:i]
		// Brace expansion needs {a,b} or {1..3}; a bare {} (find -exec) is
		// literal, and anything else with a brace is treated as expanding.
		if brace && raw != "{}" {
			lit = false
		}
		l.tokens = append(l.tokens, shToken{word: cur.String(), raw: raw, start: start, end: i, literal: lit})
		cur.Reset()
		inWord = false
	}
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			end(i)
			i++
		case c == '#' && !inWord:
			l.comment = true
			if j := strings.IndexByte(line[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(line)
			}
		case c == '\\':
			if i+1 == len(line) {
				return l, false
			}
			if line[i+1] == '\n' { // line continuation
				i += 2
				continue
			}
			begin(i)
			cur.WriteByte(line[i+1])
			i += 2
		case c == '\'':
			begin(i)
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return l, false
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			begin(i)
			i++
			for {
				if i >= len(line) {
					return l, false
				}
				d := line[i]
				if d == '"' {
					i++
					break
				}
				switch d {
				case '\\':
					// In double quotes a backslash escapes only these.
					if i+1 < len(line) && strings.IndexByte("$`\"\\\n", line[i+1]) >= 0 {
						if line[i+1] != '\n' {
							cur.WriteByte(line[i+1])
						}
						i += 2
						continue
					}
				case '$':
					lit = false
					if dollarRuns(line[i:]) {
						l.subst = true
					}
				case '`':
					lit = false
					l.subst = true
				}
				cur.WriteByte(d)
				i++
			}
		case c == '$':
			begin(i)
			lit = false
			if dollarRuns(line[i:]) {
				l.subst = true
			}
			cur.WriteByte(c)
			i++
		case c == '`':
			begin(i)
			lit = false
			l.subst = true
			cur.WriteByte(c)
			i++
		case c == '\n' || strings.IndexByte("|&;<>()", c) >= 0:
			end(i)
			op := "\n"
			if c != '\n' {
				for _, o := range shOperators {
					if strings.HasPrefix(line[i:], o) {
						op = o
						break
					}
				}
			}
			l.tokens = append(l.tokens, shToken{op: op, raw: op, start: i, end: i + len(op)})
			i += len(op)
		default:
			begin(i)
			switch c {
			case '*', '?', '[':
				lit = false
			case '~':
				// Tilde expansion: at the start of a word, and after = or :
				// in assignments (bash also in arguments that look like one).
				if i == start || line[i-1] == '=' || line[i-1] == ':' {
					lit = false
				}
			case '{':
				brace = true
			}
			cur.WriteByte(c)
			i++
		}
	}
	end(len(line))
	return l, true
}

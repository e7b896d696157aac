package shellcmd

import (
	"errors"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// parsed is a command line read by the shell parser.
type parsed struct {
	src  string
	file *syntax.File
}

// parse reads commandLine as bash does (a superset of POSIX sh for the
// lines that matter here), comments kept so that callers can see them.
func parse(commandLine string) (parsed, error) {
	// A trailing unquoted backslash escapes nothing; shells disagree on it.
	if n := len(commandLine) - len(strings.TrimRight(commandLine, `\`)); n%2 == 1 {
		return parsed{}, errors.New("trailing backslash")
	}
	f, err := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(commandLine), "")
	if err != nil {
		return parsed{}, err
	}
	return parsed{src: commandLine, file: f}, nil
}

// hasComments reports whether the line holds a comment anywhere.
func (p parsed) hasComments() bool {
	found := len(p.file.Last) > 0
	syntax.Walk(p.file, func(n syntax.Node) bool {
		if st, ok := n.(*syntax.Stmt); ok && len(st.Comments) > 0 {
			found = true
		}
		return !found
	})
	return found
}

// runsCode reports whether the line holds, anywhere (also inside double
// quotes), an expansion that runs commands or assigns: command and process
// substitution, arithmetic, and any parameter expansion other than a plain
// $NAME or ${NAME}. Operators inside braces (${x:=y}, ${x@P}, ${a[i]})
// assign, expand prompt strings or evaluate subscripts as arithmetic, which
// in bash can run a command substitution held in a variable's value.
func (p parsed) runsCode() bool {
	found := false
	syntax.Walk(p.file, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst, *syntax.ArithmExp, *syntax.ArithmCmd, *syntax.LetClause:
			found = true
		case *syntax.ParamExp:
			found = found || !plainParam(n)
		}
		return !found
	})
	return found
}

func plainParam(p *syntax.ParamExp) bool {
	return p.Param != nil && p.Flags == nil && !p.Excl && !p.Length && !p.Width && !p.IsSet &&
		p.NestedParam == nil && p.Index == nil && len(p.Modifiers) == 0 &&
		p.Slice == nil && p.Repl == nil && p.Names == 0 && p.Exp == nil
}

// text is the source of the statement's command and redirections, without
// a trailing ; or &.
func (p parsed) text(st *syntax.Stmt) string {
	end := st.Pos()
	if st.Cmd != nil {
		end = st.Cmd.End()
	}
	for _, r := range st.Redirs {
		if r.End().After(end) {
			end = r.End()
		}
	}
	return strings.TrimSpace(p.src[st.Pos().Offset():end.Offset()])
}

// simpleStmts flattens lists, pipelines, subshells and blocks into the
// statements they run, in order.
func simpleStmts(stmts []*syntax.Stmt) []*syntax.Stmt {
	var out []*syntax.Stmt
	var add func(st *syntax.Stmt)
	add = func(st *syntax.Stmt) {
		switch c := st.Cmd.(type) {
		case *syntax.BinaryCmd:
			add(c.X)
			add(c.Y)
		case *syntax.Subshell:
			out = append(out, simpleStmts(c.Stmts)...)
		case *syntax.Block:
			out = append(out, simpleStmts(c.Stmts)...)
		default:
			out = append(out, st)
		}
	}
	for _, st := range stmts {
		add(st)
	}
	return out
}

// word is one word of a command as the shell passes it on.
type word struct {
	// value has quotes and backslashes removed; expansions stay as
	// written.
	value string
	// literal: the shell passes value on as it is, without parameter,
	// command, tilde, brace or glob expansion.
	literal bool
}

// readWord unquotes w.
func (p parsed) readWord(w *syntax.Word) word {
	var b strings.Builder
	lit, brace := true, false
	for i, part := range w.Parts {
		switch part := part.(type) {
		case *syntax.Lit:
			v := part.Value
			for j := 0; j < len(v); j++ {
				c := v[j]
				switch {
				case c == '\\' && j+1 < len(v):
					j++
					b.WriteByte(v[j])
					continue
				case c == '*' || c == '?' || c == '[':
					lit = false
				case c == '~' && (i == 0 && j == 0 || j > 0 && (v[j-1] == '=' || v[j-1] == ':')):
					// Tilde expansion: at the start of a word, and after =
					// or : in assignments (bash also in arguments that look
					// like one).
					lit = false
				case c == '{':
					brace = true
				}
				b.WriteByte(c)
			}
		case *syntax.SglQuoted:
			b.WriteString(part.Value)
			lit = lit && !part.Dollar // $'...' decodes escapes
		case *syntax.DblQuoted:
			lit = lit && !part.Dollar
			for _, q := range part.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					lit = false
					b.WriteString(p.src[q.Pos().Offset():q.End().Offset()])
					continue
				}
				v := l.Value
				for j := 0; j < len(v); j++ {
					// In double quotes a backslash escapes only these.
					if v[j] == '\\' && j+1 < len(v) && strings.IndexByte("$`\"\\\n", v[j+1]) >= 0 {
						j++
					}
					b.WriteByte(v[j])
				}
			}
		default: // expansions
			lit = false
			b.WriteString(p.src[part.Pos().Offset():part.End().Offset()])
		}
	}
	// Brace expansion needs {a,b} or {1..3}; a bare {} (find -exec) is
	// literal, and anything else with a brace is treated as expanding.
	if brace && p.src[w.Pos().Offset():w.End().Offset()] != "{}" {
		lit = false
	}
	return word{value: b.String(), literal: lit}
}

func (p parsed) readWords(ws []*syntax.Word) []word {
	out := make([]word, len(ws))
	for i, w := range ws {
		out[i] = p.readWord(w)
	}
	return out
}

func values(ws []word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.value
	}
	return out
}

// SimpleCommands returns the words of every simple command of commandLine,
// wherever it is: in lists, pipelines, subshells, blocks, conditionals,
// loops and substitutions. Redirections and leading variable assignments
// are left out. ok is false when the line does not parse. It is best
// effort, like any reading of shell: a command held in a variable or
// passed to another interpreter (sh -c "...") is not seen.
func SimpleCommands(commandLine string) (cmds [][]string, ok bool) {
	p, err := parse(commandLine)
	if err != nil {
		return nil, false
	}
	syntax.Walk(p.file, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) > 0 {
			cmds = append(cmds, values(p.readWords(c.Args)))
		}
		return true
	})
	return cmds, true
}

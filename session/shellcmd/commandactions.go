package shellcmd

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"

	"app-server/protocol"
)

// ParseCommandActions reads a command line for display: what it reads,
// lists or searches. It is best effort and never decides anything; the
// command policy uses Classify.
//
// The line is split into simple commands at ;, &&, ||, |, & and newlines
// (subshells and blocks are opened), and each gives one action, whose
// command is that segment's text:
//
//   - cat FILE, head/tail [-n N] FILE, less FILE, sed -n 'N,Mp' FILE: read,
//     with path as written and name its base name;
//   - ls [DIR], tree [DIR], find [DIR] (without -exec, -delete and the
//     like), rg --files [DIR]: listFiles, path null without exactly one DIR;
//   - grep/rg/ag [-e] PATTERN [PATH]: search, path null without exactly one;
//   - anything else, or a form above with other operands: unknown.
//
// A line that does not parse (unbalanced quotes) or holds a substitution
// gives one unknown action with the whole line; a compound command (if,
// while...) gives one unknown action with its text. The result
// is never empty. ParseCommandActions is safe for concurrent use.
func ParseCommandActions(commandLine string) []protocol.CommandAction {
	whole := []protocol.CommandAction{unknownAction(strings.TrimSpace(commandLine))}
	p, err := parse(commandLine)
	if err != nil || p.runsCode() {
		return whole
	}
	var actions []protocol.CommandAction
	for _, st := range simpleStmts(p.file.Stmts) {
		text := p.text(st)
		if call, ok := st.Cmd.(*syntax.CallExpr); ok && len(call.Args) > 0 {
			actions = append(actions, segmentAction(text, values(p.readWords(call.Args))))
		} else {
			actions = append(actions, unknownAction(text))
		}
	}
	if len(actions) == 0 {
		return whole
	}
	return actions
}

func unknownAction(text string) protocol.CommandAction {
	return protocol.CommandAction{Unknown: &protocol.UnknownAction{Command: text}}
}

// sedPrint matches sed scripts that only print a line range: 5p, 1,20p,
// 10,$p. It is compiled on first use, not when every server process starts.
var sedPrint = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+|\$)(,([0-9]+|\$))?p$`) })

// segmentAction classifies one simple command: its text as written and
// its words (FOO=1 cat x reads x).
func segmentAction(text string, args []string) protocol.CommandAction {
	unknown := unknownAction(text)
	prog, args := path.Base(args[0]), args[1:]
	read := func(a argScan) protocol.CommandAction {
		if len(a.operands) != 1 || a.operands[0] == "-" {
			return unknown
		}
		p := a.operands[0]
		return protocol.CommandAction{Read: &protocol.ReadAction{Command: text, Name: path.Base(p), Path: p}}
	}
	list := func(operands []string) protocol.CommandAction {
		return protocol.CommandAction{ListFiles: &protocol.ListFilesAction{Command: text, Path: onlyOne(operands)}}
	}
	search := func(query *string, paths []string) protocol.CommandAction {
		return protocol.CommandAction{Search: &protocol.SearchAction{Command: text, Query: query, Path: onlyOne(paths)}}
	}

	switch prog {
	case "cat":
		return read(scanArgs(args))
	case "head", "tail":
		return read(scanArgs(args, "-n", "-c", "--lines", "--bytes", "-s", "--sleep-interval", "--pid"))
	case "less", "more":
		return read(scanArgs(args, "-b", "-h", "-j", "-k", "-o", "-O", "-p", "-P", "-t", "-T", "-x", "-y", "-z"))
	case "sed":
		a := scanArgs(args, "-e", "--expression", "-f", "--file", "-l", "--line-length")
		scripts := slices.Concat(a.values["-e"], a.values["--expression"])
		if len(scripts) == 0 && len(a.operands) > 0 {
			scripts, a.operands = a.operands[:1], a.operands[1:]
		}
		quiet := slices.Contains(a.flags, "-n") || slices.Contains(a.flags, "--quiet") || slices.Contains(a.flags, "--silent")
		// -i edits the file in place (sed -i -n 1p f keeps one line of it).
		inPlace := slices.ContainsFunc(a.flags, func(f string) bool {
			return strings.HasPrefix(f, "--in-place") || !strings.HasPrefix(f, "--") && strings.Contains(f, "i")
		}) || len(a.values["--in-place"]) > 0
		if !quiet || inPlace || len(scripts) != 1 || !sedPrint().MatchString(scripts[0]) || len(a.values["-f"])+len(a.values["--file"]) > 0 {
			return unknown
		}
		return read(a)
	case "ls":
		a := scanArgs(args, "-I", "-w", "-T", "--ignore", "--hide", "--width", "--tabsize", "--format", "--sort", "--time", "--quoting-style", "--indicator-style", "--block-size", "--time-style")
		return list(a.operands)
	case "tree":
		a := scanArgs(args, "-L", "-P", "-I", "-o", "-H", "-T", "--charset", "--filelimit", "--timefmt", "--sort")
		return list(a.operands)
	case "find":
		return findAction(text, args)
	case "grep", "egrep", "fgrep":
		a := scanArgs(args, "-e", "--regexp", "-f", "--file", "-m", "--max-count", "-A", "--after-context", "-B", "--before-context", "-C", "--context", "-d", "--directories", "-D", "--devices", "--include", "--exclude", "--exclude-dir", "--exclude-from", "--label", "--group-separator")
		return searchAction(a, search, []string{"-e", "--regexp"}, []string{"-f", "--file"})
	case "rg":
		a := scanArgs(args, "-e", "--regexp", "-f", "--file", "-g", "--glob", "--iglob", "-t", "--type", "-T", "--type-not", "--type-add", "--type-clear", "-m", "--max-count", "-A", "--after-context", "-B", "--before-context", "-C", "--context", "-M", "--max-columns", "-j", "--threads", "-E", "--encoding", "-r", "--replace", "-d", "--max-depth", "--max-filesize", "--sort", "--sortr", "--pre", "--pre-glob", "--color", "--colors", "--path-separator", "--context-separator", "--field-match-separator", "--field-context-separator", "--engine", "--ignore-file", "--dfa-size-limit", "--regex-size-limit")
		if slices.Contains(a.flags, "--files") {
			return list(a.operands)
		}
		return searchAction(a, search, []string{"-e", "--regexp"}, []string{"-f", "--file"})
	case "ag":
		a := scanArgs(args, "-G", "--file-search-regex", "-g", "--ignore", "--ignore-dir", "-A", "--after", "-B", "--before", "-C", "--context", "-m", "--max-count", "--depth", "-p", "--path-to-ignore", "--pager")
		return searchAction(a, search, []string{"-g"}, nil)
	}
	return unknown
}

// searchAction builds a search from a grep-like command: the pattern is the
// first pattern option's value or else the first operand, the rest are
// paths. Patterns read from a file leave the query null.
func searchAction(a argScan, search func(*string, []string) protocol.CommandAction, patternOpts, fileOpts []string) protocol.CommandAction {
	var query *string
	operands := a.operands
	for _, o := range patternOpts {
		if v := a.values[o]; len(v) > 0 && query == nil {
			query = &v[0]
		}
	}
	fromFile := slices.ContainsFunc(fileOpts, func(o string) bool { return len(a.values[o]) > 0 })
	if query == nil && !fromFile && len(operands) > 0 {
		query, operands = &operands[0], operands[1:]
	}
	return search(query, operands)
}

// findAction lists files unless the find expression acts on them.
func findAction(text string, args []string) protocol.CommandAction {
	for len(args) > 0 && (args[0] == "-H" || args[0] == "-L" || args[0] == "-P") {
		args = args[1:]
	}
	n := 0
	for n < len(args) && !strings.HasPrefix(args[n], "-") && args[n] != "(" && args[n] != "!" {
		n++
	}
	for _, a := range args[n:] {
		switch a {
		case "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls":
			return unknownAction(text)
		}
	}
	return protocol.CommandAction{ListFiles: &protocol.ListFilesAction{Command: text, Path: onlyOne(args[:n])}}
}

// onlyOne returns the single element of s, or nil if s has none or several.
func onlyOne(s []string) *string {
	if len(s) != 1 {
		return nil
	}
	return &s[0]
}

// argScan is a command's arguments sorted into options and operands.
type argScan struct {
	operands []string
	flags    []string            // options without a value, long ones without "=..."
	values   map[string][]string // option name -> values, in order
}

// scanArgs sorts args GNU style: "--" ends the options, "-" is an operand,
// --name=value carries its value, and the options named in takesValue take
// the next argument as their value. Clustered short options (-rn) count as
// one flag, and a short option with its value attached (-n5) as a flag.
func scanArgs(args []string, takesValue ...string) argScan {
	a := argScan{values: make(map[string][]string)}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			a.operands = append(a.operands, args[i+1:]...)
			return a
		case arg == "-" || !strings.HasPrefix(arg, "-"):
			a.operands = append(a.operands, arg)
		case strings.HasPrefix(arg, "--") && strings.Contains(arg, "="):
			name, v, _ := strings.Cut(arg, "=")
			a.values[name] = append(a.values[name], v)
		case slices.Contains(takesValue, arg) && i+1 < len(args):
			a.values[arg] = append(a.values[arg], args[i+1])
			i++
		default:
			a.flags = append(a.flags, arg)
		}
	}
	return a
}

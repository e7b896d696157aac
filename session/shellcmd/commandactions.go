package shellcmd

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"app-server/protocol"
)

// ParseCommandActions reads a command line for display: what it reads,
// lists or searches. It is best effort and never decides anything; the
// command policy uses IsKnownReadOnly.
//
// The line is split into simple commands at ;, &&, ||, |, & and newlines,
// and each gives one action, whose command is that segment's text:
//
//   - cat FILE, head/tail [-n N] FILE, less FILE, sed -n 'N,Mp' FILE: read,
//     with path as written and name its base name;
//   - ls [DIR], tree [DIR], find [DIR] (without -exec, -delete and the
//     like), rg --files [DIR]: listFiles, path null without exactly one DIR;
//   - grep/rg/ag [-e] PATTERN [PATH]: search, path null without exactly one;
//   - anything else, or a form above with other operands: unknown.
//
// A line that cannot be split (unbalanced quotes) or holds a command
// substitution gives one unknown action with the whole line. The result
// is never empty. ParseCommandActions is safe for concurrent use.
func ParseCommandActions(commandLine string) []protocol.CommandAction {
	whole := []protocol.CommandAction{unknownAction(strings.TrimSpace(commandLine))}
	l, ok := lexShell(commandLine)
	if !ok || l.subst {
		return whole
	}
	var actions []protocol.CommandAction
	for _, seg := range shSegments(commandLine, l.tokens) {
		actions = append(actions, segmentAction(seg))
	}
	if len(actions) == 0 {
		return whole
	}
	return actions
}

// shSegment is one simple command of a line.
type shSegment struct {
	text string   // as written, without surrounding blanks
	args []string // words, redirections removed
}

// shSegments splits tokens into simple commands at the control operators.
// Redirections stay in a segment's text but leave its words, together with
// their target and an fd number written against them (2>/dev/null).
func shSegments(line string, toks []shToken) []shSegment {
	var segs []shSegment
	var cur shSegment
	first, last := -1, -1
	flush := func() {
		if first >= 0 {
			cur.text = strings.TrimSpace(line[first:last])
			segs = append(segs, cur)
		}
		cur, first = shSegment{}, -1
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.op != "" && !isRedirect(t.op) {
			flush()
			continue
		}
		if first < 0 {
			first = t.start
		}
		last = t.end
		if t.op == "" {
			cur.args = append(cur.args, t.word)
			continue
		}
		if n := len(cur.args); n > 0 && toks[i-1].op == "" && toks[i-1].end == t.start && isDigits(toks[i-1].raw) {
			cur.args = cur.args[:n-1]
		}
		if i+1 < len(toks) && toks[i+1].op == "" {
			i++
			last = toks[i].end
		}
	}
	flush()
	return segs
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func unknownAction(text string) protocol.CommandAction {
	return protocol.CommandAction{Unknown: &protocol.UnknownAction{Command: text}}
}

// sedPrint matches sed scripts that only print a line range: 5p, 1,20p, 10,$p.
var sedPrint = regexp.MustCompile(`^([0-9]+|\$)(,([0-9]+|\$))?p$`)

// segmentAction classifies one simple command.
func segmentAction(seg shSegment) protocol.CommandAction {
	args := seg.args
	for len(args) > 0 && (shToken{raw: args[0]}).isAssignment() {
		args = args[1:] // FOO=1 cat x reads x
	}
	unknown := unknownAction(seg.text)
	if len(args) == 0 {
		return unknown
	}
	prog, args := path.Base(args[0]), args[1:]
	read := func(a argScan) protocol.CommandAction {
		if len(a.operands) != 1 || a.operands[0] == "-" {
			return unknown
		}
		p := a.operands[0]
		return protocol.CommandAction{Read: &protocol.ReadAction{Command: seg.text, Name: path.Base(p), Path: p}}
	}
	list := func(operands []string) protocol.CommandAction {
		return protocol.CommandAction{ListFiles: &protocol.ListFilesAction{Command: seg.text, Path: onlyOne(operands)}}
	}
	search := func(query *string, paths []string) protocol.CommandAction {
		return protocol.CommandAction{Search: &protocol.SearchAction{Command: seg.text, Query: query, Path: onlyOne(paths)}}
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
		if !quiet || inPlace || len(scripts) != 1 || !sedPrint.MatchString(scripts[0]) || len(a.values["-f"])+len(a.values["--file"]) > 0 {
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
		return findAction(seg.text, args)
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

// SimpleCommands splits commandLine into its simple commands (at ;, &&,
// ||, |, & and newlines) and returns the words of each, redirections and
// leading variable assignments removed. ok is false when the line cannot
// be split (an unbalanced quote). It is best effort, like any reading of
// shell: a command hidden in a substitution or a variable is not seen.
func SimpleCommands(commandLine string) (cmds [][]string, ok bool) {
	l, ok := lexShell(commandLine)
	if !ok {
		return nil, false
	}
	for _, seg := range shSegments(commandLine, l.tokens) {
		args := seg.args
		for len(args) > 0 && (shToken{raw: args[0]}).isAssignment() {
			args = args[1:]
		}
		cmds = append(cmds, args)
	}
	return cmds, true
}

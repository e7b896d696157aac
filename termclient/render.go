package termclient

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"app-server/protocol"
)

// style paints text with ANSI colours when enabled; without colour the
// text is unchanged, so everything reads the same on a pipe.
type style struct{ color bool }

func (s style) paint(code, text string) string {
	if !s.color || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s style) bold(t string) string   { return s.paint("1", t) }
func (s style) dim(t string) string    { return s.paint("2", t) }
func (s style) red(t string) string    { return s.paint("31", t) }
func (s style) green(t string) string  { return s.paint("32", t) }
func (s style) yellow(t string) string { return s.paint("33", t) }
func (s style) cyan(t string) string   { return s.paint("36", t) }

// The prompt line's prefix.
const promptPrefix = "> "

// renderer writes everything the user sees. Command output goes to out;
// the rest (command lines, prompts, results, tables) to ui. In interactive
// mode both are stdout; with --exec, out is stdout and ui is stderr, so the
// command's output can be piped. It is used by the session loop only.
type renderer struct {
	out, ui io.Writer
	st      style
	// shared: out and ui are the same stream, so a ui line after output
	// that did not end with a newline starts on a new line.
	shared  bool
	midLine bool // the last output written did not end with a newline

	streamed map[string]*strings.Builder // output streamed so far, by item id
	now      func() time.Time
}

func newRenderer(out, ui io.Writer, st style, shared bool) *renderer {
	return &renderer{out: out, ui: ui, st: st, shared: shared, streamed: make(map[string]*strings.Builder), now: time.Now}
}

// line writes a ui line (s without its newline).
func (r *renderer) line(s string) {
	if r.shared && r.midLine {
		io.WriteString(r.ui, "\n")
		r.midLine = false
	}
	io.WriteString(r.ui, s+"\n")
}

func (r *renderer) info(s string) { r.line(r.st.dim(s)) }
func (r *renderer) warn(s string) { r.line(r.st.yellow("warning: " + s)) }
func (r *renderer) errorf(format string, args ...any) {
	r.line(r.st.red("error: " + fmt.Sprintf(format, args...)))
}

// banner is shown once the thread is ready: the thread, then the state
// line (as /status).
func (r *renderer) banner(threadID string, st state, interactive bool) {
	r.status(threadID, st)
	if interactive {
		r.info("Type a command line to run it as a turn. /help lists keys and commands; Ctrl-D quits.")
	}
}

// status shows the thread and its state line.
func (r *renderer) status(threadID string, st state) {
	saved := ""
	if st.ephemeral {
		saved = " (scratch: not saved)"
	}
	r.line(r.st.bold("app-server client") + r.st.dim(fmt.Sprintf(" - thread %s%s - %s", threadID, saved, st.settings.Cwd)))
	r.line(r.st.dim(st.line()))
}

// itemStarted shows the command about to run.
func (r *renderer) itemStarted(item *protocol.CommandExecutionItem) {
	r.streamed[item.ID] = &strings.Builder{}
	r.line(formatCommandHeader(item, r.st))
}

// delta streams a chunk of a command's output.
func (r *renderer) delta(itemID, text string) {
	if b := r.streamed[itemID]; b != nil {
		b.WriteString(text)
	}
	if text == "" {
		return
	}
	io.WriteString(r.out, text)
	r.midLine = !strings.HasSuffix(text, "\n")
}

// itemCompleted shows what the output stream did not (network denials,
// notes), then the result: exit code and duration, or why it did not run.
func (r *renderer) itemCompleted(item *protocol.CommandExecutionItem) {
	var streamed string
	if b := r.streamed[item.ID]; b != nil {
		streamed = b.String()
	}
	delete(r.streamed, item.ID)
	extra := unstreamed(item.AggregatedOutput, streamed)
	var notes []string
	for _, l := range strings.Split(strings.TrimRight(extra, "\n"), "\n") {
		if l == "" {
			continue
		}
		if d, ok := formatDenial(l, r.st); ok {
			r.line(d)
		} else {
			notes = append(notes, l)
		}
	}
	r.line(formatCommandResult(item, strings.Join(notes, "; "), r.st))
}

// unstreamed returns the part of an item's aggregated output that the
// deltas did not carry: what the server appended at completion (denial
// lines, errors) or, for a command that never ran, the whole note. The
// aggregated output is a tail (1 MiB), so when it does not start with the
// streamed text only its trailing [network] lines are taken.
func unstreamed(aggregated *string, streamed string) string {
	if aggregated == nil {
		return ""
	}
	agg := *aggregated
	if strings.HasPrefix(agg, streamed) {
		return agg[len(streamed):]
	}
	lines := strings.SplitAfter(agg, "\n")
	i := len(lines)
	for i > 0 && (lines[i-1] == "" || strings.HasPrefix(lines[i-1], "[network] ")) {
		i--
	}
	return strings.Join(lines[i:], "")
}

// formatCommandHeader is the line before a command's output.
func formatCommandHeader(item *protocol.CommandExecutionItem, st style) string {
	return st.cyan(st.bold("$ ")) + st.bold(item.Command) + st.dim("   (in "+item.Cwd+")")
}

// formatCommandResult is the line after a command's output: exit code and
// duration, or why it did not run (note: what the server said).
func formatCommandResult(item *protocol.CommandExecutionItem, note string, st style) string {
	dur := formatTook(item.DurationMs)
	suffix := ""
	if note != "" {
		suffix = ": " + note
	}
	switch {
	case item.Status == protocol.CommandDeclined:
		return st.yellow("-> not run, declined" + suffix)
	case item.ExitCode != nil && *item.ExitCode == 0 && item.Status == protocol.CommandCompleted:
		return st.green("-> exit 0"+dur) + st.dim(suffix)
	case item.ExitCode != nil && *item.ExitCode < 0:
		return st.red("-> killed" + dur + suffix)
	case item.ExitCode != nil:
		return st.red(fmt.Sprintf("-> exit %d%s%s", *item.ExitCode, dur, suffix))
	}
	return st.red("-> failed" + dur + suffix)
}

// formatTook is " in <duration>" when the server said how long something
// took, "" when it did not.
func formatTook(ms *int64) string {
	if ms == nil {
		return ""
	}
	return " in " + formatDuration(*ms)
}

// formatDuration: 850ms, 1.2s, 2m05s.
func formatDuration(ms int64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%dms", ms)
	case ms < 60_000:
		return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + "s"
	}
	d := time.Duration(ms) * time.Millisecond
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// formatDenial renders a "[network] <protocol> <host:port> blocked: <reason>
// (<source>)[: <detail>]" line of an item's output; ok is false for other
// lines.
func formatDenial(l string, st style) (string, bool) {
	rest, ok := strings.CutPrefix(l, "[network] ")
	if !ok {
		return "", false
	}
	proto, rest, _ := strings.Cut(rest, " ")
	dest, rest, _ := strings.Cut(rest, " blocked: ")
	reason, rest, _ := strings.Cut(rest, " (")
	source, detail, _ := strings.Cut(rest, ")")
	detail = strings.TrimSuffix(strings.TrimPrefix(detail, ": "), ".")
	why := reason
	if detail != "" {
		why += ": " + detail
	}
	if e := denialExplanation(reason, source); e != "" {
		why += "; " + e
	}
	return st.red(fmt.Sprintf("!! network: %s over %s denied (%s)", dest, proto, why)), true
}

// denialExplanation says in words why the proxy denied a request.
func denialExplanation(reason, source string) string {
	switch reason {
	case "not_allowed":
		if source == "decider" {
			return "declined at the prompt"
		}
		return "not in the allowlist and no prompt was possible"
	case "not_allowed_local":
		return "local and private addresses are refused without a prompt; network.allow_local_binding = true makes them prompt"
	case "denied":
		if source == "session" {
			return "denied earlier in this session"
		}
		return "a deny rule matches"
	case "user_denied":
		return "the prompt was cancelled or interrupted"
	}
	// method_not_allowed, timeout: the server's message says it all.
	return ""
}

// agentMessage shows text the agent says.
func (r *renderer) agentMessage(text string) { r.line(r.st.dim(text)) }

// prompt shows an approval prompt: the question, then the keys.
// onTimeout is what the server answers when a network prompt expires.
func (r *renderer) prompt(p *protocol.CommandExecutionRequestApprovalParams, waiting int, onTimeout protocol.NetworkTimeoutDecision) {
	for _, l := range formatPrompt(p, waiting, onTimeout, r.now(), r.st) {
		r.line(l)
	}
}

// formatPrompt returns the lines of a prompt. waiting is how many more
// prompts are queued behind it.
func formatPrompt(p *protocol.CommandExecutionRequestApprovalParams, waiting int, onTimeout protocol.NetworkTimeoutDecision, now time.Time, st style) []string {
	q := st.yellow(st.bold("?? ")) + st.bold(promptQuestion(p))
	if p.ExpiresAtMs != nil {
		if left := time.UnixMilli(*p.ExpiresAtMs).Sub(now); left > 0 {
			what := "the server answers"
			if p.NetworkApprovalContext != nil {
				what = timeoutVerb(onTimeout) + "s"
			}
			q += st.dim(fmt.Sprintf("  (%s in %s)", what, formatWait(left)))
		}
	}
	if waiting > 0 {
		q += st.dim(fmt.Sprintf("  (%d more waiting)", waiting))
	}
	return []string{q, "   " + strings.Join(keyHints(p), "  ")}
}

// promptQuestion is the question a prompt asks: "allow 127.0.0.1:8080 over
// http?" or "run `make test` in /src?".
func promptQuestion(p *protocol.CommandExecutionRequestApprovalParams) string {
	if c := p.NetworkApprovalContext; c != nil {
		dest := c.Host
		if c.Port != nil {
			dest = net.JoinHostPort(c.Host, strconv.Itoa(int(*c.Port)))
		}
		return fmt.Sprintf("allow %s over %s?", dest, c.Protocol)
	}
	cmd, cwd := "(unknown command)", ""
	if p.Command != nil {
		cmd = *p.Command
	}
	if p.Cwd != nil {
		cwd = " in " + *p.Cwd
	}
	return fmt.Sprintf("run `%s`%s?", cmd, cwd)
}

// answered echoes the answer given to the prompt shown.
func (r *renderer) answered(a answer) {
	color := r.st.green
	switch a.decision.Kind {
	case protocol.DecisionDecline, protocol.DecisionCancel:
		color = r.st.yellow
	case protocol.DecisionApplyNetworkPolicyAmendment:
		if a.decision.NetworkPolicyAmendment.Action == protocol.RuleDeny {
			color = r.st.yellow
		}
	}
	r.line("   " + color("-> "+a.label))
}

// promptClosed says the prompt shown was resolved by the server (timeout,
// interrupt, turn end) before the user answered.
func (r *renderer) promptClosed(p *protocol.CommandExecutionRequestApprovalParams) {
	r.line("   " + r.st.dim("-> closed by the server before an answer: "+promptQuestion(p)))
}

// turnCompleted shows how a turn ended.
func (r *renderer) turnCompleted(t protocol.Turn) { r.line(formatTurnEnd(t, r.st)) }

func formatTurnEnd(t protocol.Turn, st style) string {
	dur := formatTook(t.DurationMs)
	switch t.Status {
	case protocol.TurnCompleted:
		return st.dim("-- turn completed" + dur)
	case protocol.TurnInterrupted:
		return st.yellow("-- turn interrupted" + dur)
	}
	msg := ""
	if t.Error != nil {
		msg = ": " + t.Error.Message
	}
	return st.red("-- turn " + string(t.Status) + dur + msg)
}

// grants shows network/grants/list: allows and denies alike.
func (r *renderer) grants(g []protocol.NetworkGrant) { r.block(formatGrants(g, r.now())) }

func formatGrants(g []protocol.NetworkGrant, now time.Time) string {
	return formatRows(g, "network: nothing remembered (no session allows or denies in this thread, no persistent rules)\n",
		"HOST\tPROTOCOL\tPORT\tACTION\tSCOPE\tHITS\tOPEN\tSINCE", func(x protocol.NetworkGrant) string {
			proto, port := "*", "*"
			if x.Protocol != nil {
				proto = string(*x.Protocol)
			}
			if x.Port != nil {
				port = strconv.Itoa(int(*x.Port))
			}
			return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s", x.Host, proto, port, x.Action, x.Scope, x.Hits, x.OpenConnections,
				formatWhen(time.UnixMilli(x.GrantedAtMs), now))
		})
}

// formatRows lays xs out in aligned columns under head, one line of
// tab-separated cells per x as row writes it; none is what no xs show.
func formatRows[T any](xs []T, none, head string, row func(T) string) string {
	if len(xs) == 0 {
		return none
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, head)
	for _, x := range xs {
		fmt.Fprintln(tw, row(x))
	}
	tw.Flush()
	return b.String()
}

// revoked shows network/grants/revoke's and command/rules/revoke's answer:
// n rules of kind ("" for network rules, "command ") listed in table.
// Allows and denies are both "rules" here: a deny is not a grant.
func (r *renderer) revoked(n int, kind string, scope protocol.GrantScope, target, table string) {
	if n == 0 {
		r.line(fmt.Sprintf("no %s %srule matches %s", scope, kind, target))
		return
	}
	r.line(fmt.Sprintf("revoked %s:", countRules(n, scope)))
	r.block(table)
}

// countRules is "1 session rule" or "2 persistent rules".
func countRules(n int, scope protocol.GrantScope) string {
	if n == 1 {
		return fmt.Sprintf("1 %s rule", scope)
	}
	return fmt.Sprintf("%d %s rules", n, scope)
}

// commandRules shows command/rules/list.
func (r *renderer) commandRules(rules []protocol.CommandRule) {
	r.block(formatCommandRules(rules, r.now()))
}

func formatCommandRules(rules []protocol.CommandRule, now time.Time) string {
	return formatRows(rules, "commands: nothing remembered (no command accepted for the session, no persistent command rules)\n",
		"COMMAND\tDECISION\tSCOPE\tSINCE", func(c protocol.CommandRule) string {
			since := "-"
			if c.AddedAtMs != nil {
				since = formatWhen(time.UnixMilli(*c.AddedAtMs), now)
			}
			return fmt.Sprintf("%s\t%s\t%s\t%s", commandRuleText(c), c.Decision, c.Scope, since)
		})
}

// commandRuleText is what a command rule covers: the exact line of a
// session approval, "PREFIX ..." for a prefix rule.
func commandRuleText(c protocol.CommandRule) string {
	if c.Command != nil {
		return *c.Command
	}
	return strings.Join(c.Prefix, " ") + " ..."
}

// threads shows thread/list, marking the current thread. short holds
// the prefix /resume takes for each id.
func (r *renderer) threads(list []protocol.Thread, current string, short map[string]string) {
	r.block(formatThreads(list, current, short, r.now()))
}

func formatThreads(list []protocol.Thread, current string, short map[string]string, now time.Time) string {
	return formatRows(list, "no threads\n", "  ID\tRESUME\tUPDATED\tCWD\tPREVIEW", func(t protocol.Thread) string {
		mark := " "
		if t.ID == current {
			mark = "*"
		}
		preview := strings.ReplaceAll(t.Preview, "\n", " ")
		if len(preview) > 50 {
			preview = preview[:47] + "..."
		}
		return fmt.Sprintf("%s %s\t%s\t%s\t%s\t%s", mark, t.ID, short[t.ID], formatWhen(time.Unix(t.UpdatedAt, 0), now), t.Cwd, preview)
	})
}

// resumed shows a resumed thread and its last commands.
func (r *renderer) resumed(resp protocol.ThreadResumeResponse) {
	var cmds []*protocol.CommandExecutionItem
	for _, t := range resp.Thread.Turns {
		for _, it := range t.Items {
			if it.CommandExecution != nil {
				cmds = append(cmds, it.CommandExecution)
			}
		}
	}
	r.line(fmt.Sprintf("resumed thread %s (%d turns) in %s", resp.Thread.ID, len(resp.Thread.Turns), resp.Cwd))
	if len(cmds) > 5 {
		cmds = cmds[len(cmds)-5:]
	}
	for _, c := range cmds {
		r.line("  " + formatCommandHeader(c, r.st) + "  " + formatCommandResult(c, "", r.st))
	}
}

// formatWhen is a time of day for today, a date otherwise.
func formatWhen(t, now time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "-"
	}
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// block writes a multi-line text to ui.
func (r *renderer) block(s string) {
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		r.line(l)
	}
}

// promptLine redraws the prompt line (raw mode): clear it, then the
// prefix and the text being edited.
func (r *renderer) promptLine(text string) {
	io.WriteString(r.ui, "\r\x1b[K"+r.st.bold(r.st.cyan(promptPrefix))+text)
}

// clearScreen clears the terminal and puts the cursor top left (Ctrl-L).
func (r *renderer) clearScreen() {
	io.WriteString(r.ui, "\x1b[H\x1b[2J")
	r.midLine = false
}

// clearPromptLine erases the prompt line before other output (raw mode).
func (r *renderer) clearPromptLine() { io.WriteString(r.ui, "\r\x1b[K") }

// endPromptLine moves below the prompt line once it is entered (raw mode).
func (r *renderer) endPromptLine() { io.WriteString(r.ui, "\n") }

// autoPrompt shows a prompt that --auto answers without asking.
func (r *renderer) autoPrompt(p *protocol.CommandExecutionRequestApprovalParams) {
	r.line(r.st.yellow(r.st.bold("?? ")) + r.st.bold(promptQuestion(p)))
}

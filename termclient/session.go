package termclient

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"app-server/protocol"
)

// callTimeout bounds a request the loop waits for (the server answers
// turn/start at once and the other requests quickly).
const callTimeout = 30 * time.Second

// session is the client's event loop and its state. Everything here is
// owned by the loop goroutine (run); other goroutines talk to it through
// the conn's inbox, the input channel, signals and post.
type session struct {
	ctx  context.Context
	opts *options
	conn *conn
	r    *renderer

	execMode bool // --exec: one turn, then quit with its exit code
	// input is where keys (raw) or lines come from; nil when the client
	// reads no input (--exec with --auto) or the input ended.
	input <-chan inputEvent
	raw   bool
	// line mode: input not consumed yet (lines typed ahead of a prompt or
	// of the end of a turn, and the end of input).
	typeahead []inputEvent
	editor    lineEditor // raw mode's prompt line
	lineShown bool       // raw mode: the prompt line is on screen

	threadID     string
	ephemeral    bool                                 // threadID is not saved
	settings     protocol.ThreadSettings              // of threadID, from thread/start or thread/resume
	network      protocol.NetworkSettingsReadResponse // the server's, read once
	turnID       string                               // the running turn, "" when idle
	interrupting bool                                 // turn/interrupt sent (or cancel answered) for turnID
	lastCommand  *protocol.CommandExecutionItem

	prompts promptQueue
	// fileChanges are the file change items in progress, by id: a file
	// change prompt shows the diff its item/started carried.
	fileChanges  map[string]*protocol.FileChangeItem
	promptDirty  bool      // output was written below the prompt shown
	promptAt     time.Time // when the head prompt was last rendered
	promptTimer  bool      // a re-render is scheduled
	async        chan func()
	stopped      chan struct{} // closed when the loop returns
	quitting     bool
	serverFailed bool // the server went away on its own
	code         int
}

// run is the event loop. It returns the exit code.
func (s *session) run(sigs <-chan os.Signal) int {
	defer close(s.stopped)
	s.refresh()
	for !s.quitting {
		select {
		case <-s.conn.ready:
			s.serverMessages()
		case ev := <-s.input:
			s.onInput(ev)
		case sig := <-sigs:
			s.onSignal(sig)
		case f := <-s.async:
			f()
		case <-s.conn.done:
			s.serverMessages() // what it said last
			if !s.quitting {
				s.hideLine()
				s.r.errorf("the server exited unexpectedly")
				s.serverFailed = true
				s.quit(ExitFailure)
			}
		case <-s.ctx.Done():
			s.stop()
		}
		s.refresh()
	}
	return s.code
}

// post runs f on the loop (from another goroutine); dropped once the loop
// has returned.
func (s *session) post(f func()) {
	select {
	case s.async <- f:
	case <-s.stopped:
	}
}

// call sends a request from the loop and waits for its answer.
func (s *session) call(method string, params, result any) error {
	ctx, cancel := context.WithTimeout(s.ctx, callTimeout)
	defer cancel()
	return s.conn.call(ctx, method, params, result)
}

func (s *session) quit(code int) {
	s.quitting = true
	s.code = code
}

// stop quits on a signal or a cancelled context: an --exec turn still
// running counts as interrupted.
func (s *session) stop() {
	s.hideLine()
	if s.execMode {
		s.quit(ExitInterrupted)
		return
	}
	s.quit(ExitOK)
}

// serverMessages handles everything the server sent since the last call.
func (s *session) serverMessages() {
	msgs := s.conn.take()
	if len(msgs) == 0 {
		return
	}
	s.hideLine()
	for _, m := range msgs {
		s.onMessage(m)
	}
}

// refresh puts the right thing at the bottom of the screen after an event:
// the head prompt if it is not shown (or output buried it), else the
// prompt line when idle.
func (s *session) refresh() {
	if s.quitting {
		return
	}
	if h := s.prompts.head(); h != nil {
		switch {
		case !h.shown:
			s.showPrompt(h)
		case s.promptDirty:
			// Output arrived below the prompt: show it again, at most once
			// a second so a chatty command does not flood the screen.
			if wait := time.Second - time.Since(s.promptAt); wait > 0 {
				if !s.promptTimer {
					s.promptTimer = true
					time.AfterFunc(wait, func() { s.post(func() { s.promptTimer = false }) })
				}
				return
			}
			s.showPrompt(h)
		}
		return
	}
	if s.raw && !s.execMode && s.turnID == "" && !s.lineShown {
		s.r.promptLine(s.editor.text())
		s.lineShown = true
	}
}

func (s *session) showPrompt(h *prompt) {
	if h.fileChange != nil {
		s.r.fileChangePrompt(h, s.prompts.len()-1)
	} else {
		s.r.prompt(&h.params, s.prompts.len()-1, s.network.ApprovalTimeoutDecision)
	}
	h.shown, s.promptDirty, s.promptAt = true, false, time.Now()
}

// hideLine erases the prompt line before other output (raw mode).
func (s *session) hideLine() {
	if s.lineShown {
		s.r.clearPromptLine()
		s.lineShown = false
	}
}

// onSignal: SIGINT is Ctrl-C (line mode, or kill -INT); SIGTERM and SIGHUP
// quit.
func (s *session) onSignal(sig os.Signal) {
	if sig == os.Interrupt {
		s.ctrlC()
		return
	}
	s.stop()
}

// ctrlC interrupts the running turn (a second one quits), or quits when
// idle.
func (s *session) ctrlC() {
	if s.turnID != "" {
		s.interrupt()
		return
	}
	s.quit(ExitOK)
}

// interrupt sends turn/interrupt for the running turn, in the background:
// the loop keeps handling the turn's events. When an interrupt is already
// on its way, it quits instead.
func (s *session) interrupt() {
	s.hideLine()
	if s.interrupting {
		s.r.info("quitting")
		s.stop()
		return
	}
	s.interrupting = true
	s.r.info("interrupting the turn (Ctrl-C again to quit)")
	p := protocol.TurnInterruptParams{ThreadID: s.threadID, TurnID: s.turnID}
	go func() {
		ctx, cancel := context.WithTimeout(s.ctx, callTimeout)
		defer cancel()
		if err := s.conn.call(ctx, protocol.MethodTurnInterrupt, p, nil); err != nil {
			s.post(func() { s.r.errorf("turn/interrupt: %v", err) })
		}
	}()
}

// onInput handles a key (raw mode) or queues a line (line mode).
func (s *session) onInput(ev inputEvent) {
	if ev.kind == inputEOF {
		s.input = nil
	}
	if s.raw {
		s.onKey(ev)
		return
	}
	s.typeahead = append(s.typeahead, ev)
	s.pump()
}

// onKey handles one keypress in raw mode.
func (s *session) onKey(ev inputEvent) {
	h := s.prompts.head()
	if ev.kind == inputEOF {
		// The terminal went away: nobody can answer.
		if h != nil {
			s.answer(h, answer{protocol.Decline(), "declined (end of input)"})
		}
		s.stop()
		return
	}
	k := ev.key
	if k == keyCtrlL {
		// Clear the screen; refresh draws the prompt or the prompt line
		// again at the top.
		s.r.clearScreen()
		s.lineShown = false
		if h != nil {
			h.shown = false
		}
		return
	}
	switch {
	case h != nil:
		switch k {
		case keyCtrlC:
			s.interrupt()
		case keyCtrlD:
		case keyEnter, '?', 'h':
			h.shown = false // show it again
		default:
			s.answerKey(h, k)
		}
	case s.turnID != "" || s.execMode:
		if k == keyCtrlC {
			s.interrupt()
		}
		// Other keys are dropped while the turn runs.
	default:
		switch {
		case k == keyCtrlC && s.editor.text() != "":
			s.editor.clear()
			s.lineShown = false
		case k == keyCtrlC, k == keyCtrlD && s.editor.text() == "":
			s.r.endPromptLine()
			s.lineShown = false
			s.quit(ExitOK)
		default:
			line, entered := s.editor.key(k)
			s.lineShown = false // redrawn by refresh
			if entered {
				s.r.promptLine(line)
				s.r.endPromptLine()
				s.runLine(line)
			}
		}
	}
}

// pump consumes typed-ahead input (line mode) as far as the state allows:
// a line answers the prompt shown; with no prompt, a line runs when no turn
// is running; the end of input quits when idle and declines prompts.
func (s *session) pump() {
	for len(s.typeahead) > 0 && !s.quitting {
		ev := s.typeahead[0]
		if h := s.prompts.head(); h != nil {
			if ev.kind == inputEOF {
				s.answer(h, answer{protocol.Decline(), "declined (end of input)"})
				continue // the end of input stays for what comes next
			}
			s.typeahead = s.typeahead[1:]
			text := strings.TrimSpace(ev.line)
			if text == "" {
				h.shown = false
				continue
			}
			k, n := utf8.DecodeRuneInString(text)
			if n != len(text) {
				// Only a one-key line answers: a typed-ahead "curl ..."
				// must not count as "c".
				s.r.info("   " + strconv.Quote(text) + " is not an answer: type one of " + keyList(&h.params) + ", then Enter")
				continue
			}
			s.answerKey(h, k)
			continue
		}
		if s.turnID != "" || s.execMode {
			return // after the turn
		}
		s.typeahead = s.typeahead[1:]
		if ev.kind == inputEOF {
			s.quit(ExitOK)
			return
		}
		s.runLine(ev.line)
	}
}

// runLine runs a line typed at the prompt line: a /command, or a turn.
func (s *session) runLine(line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	if c, args, ok := parseCommand(line); ok {
		c.run(s, args)
		return
	}
	s.startTurn(line)
}

// startTurn starts a turn whose input is line.
func (s *session) startTurn(line string) {
	var resp protocol.TurnStartResponse
	err := s.call(protocol.MethodTurnStart, protocol.TurnStartParams{
		ThreadID: s.threadID,
		Input:    []protocol.UserInput{protocol.TextUserInput(line)},
	}, &resp)
	if err != nil {
		s.r.errorf("turn/start: %v", err)
		if s.execMode {
			s.quit(ExitFailure)
		}
		return
	}
	s.turnID, s.interrupting, s.lastCommand = resp.Turn.ID, false, nil
}

// signals the client handles itself.
var signals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

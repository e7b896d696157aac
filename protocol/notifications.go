package protocol

// ThreadStartedNotification: a thread was created (or loaded by resume).
type ThreadStartedNotification struct {
	Thread Thread `json:"thread"`
}

// ThreadStatusChangedNotification: a loaded thread's status changed.
type ThreadStatusChangedNotification struct {
	ThreadID string       `json:"threadId"`
	Status   ThreadStatus `json:"status"`
}

// ThreadArchivedNotification: a thread moved to the archive.
type ThreadArchivedNotification struct {
	ThreadID string `json:"threadId"`
}

// ThreadUnarchivedNotification: a thread moved back from the archive.
type ThreadUnarchivedNotification struct {
	ThreadID string `json:"threadId"`
}

// TurnStartedNotification: a turn began.
type TurnStartedNotification struct {
	ThreadID string `json:"threadId"`
	Turn     Turn   `json:"turn"`
}

// TurnCompletedNotification: a turn ended (completed, interrupted or failed).
type TurnCompletedNotification struct {
	ThreadID string `json:"threadId"`
	Turn     Turn   `json:"turn"`
}

// ItemStartedNotification: an item began.
type ItemStartedNotification struct {
	ThreadID    string     `json:"threadId"`
	TurnID      string     `json:"turnId"`
	Item        ThreadItem `json:"item"`
	StartedAtMs int64      `json:"startedAtMs"`
}

// ItemCompletedNotification: an item reached its final state.
type ItemCompletedNotification struct {
	ThreadID          string     `json:"threadId"`
	TurnID            string     `json:"turnId"`
	Item              ThreadItem `json:"item"`
	CompletedAtMs     int64      `json:"completedAtMs"`
	ContentTokenCount *int64     `json:"contentTokenCount"`
}

// CommandExecutionOutputDeltaNotification streams a running command's output.
// Chunks arrive in order; stdout and stderr are interleaved as produced.
type CommandExecutionOutputDeltaNotification struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
	ItemID   string `json:"itemId"`
	Delta    string `json:"delta"`
}

// ServerRequestResolvedNotification: a server-to-client request is settled,
// by the client's answer, a timeout, or a clean-up (interrupt, turn end,
// disconnect). Clients should dismiss any prompt showing it.
type ServerRequestResolvedNotification struct {
	ThreadID  string    `json:"threadId"`
	RequestID RequestID `json:"requestId"`
}

// ErrorNotification reports a turn error.
type ErrorNotification struct {
	ThreadID  string    `json:"threadId"`
	TurnID    string    `json:"turnId"`
	Error     TurnError `json:"error"`
	WillRetry bool      `json:"willRetry"`
}

// WarningNotification reports something the user should know that did not
// stop the work, such as a refused network policy amendment.
type WarningNotification struct {
	ThreadID *string `json:"threadId"`
	Message  string  `json:"message"`
}

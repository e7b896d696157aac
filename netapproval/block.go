package netapproval

import "time"

// Block records one refused request, so the command's item can say why it
// failed. Blocks are kept per attachment and per thread, newest last.
type Block struct {
	ThreadID  string
	TurnID    string
	CommandID string
	Key       Key
	Reason    Reason
	Source    Source
	Message   string
	At        time.Time
}

// Bounds on remembered blocks, so a command hammering a blocked host cannot
// grow memory without limit; the oldest are dropped first.
const (
	maxAttachmentBlocks = 256
	maxThreadBlocks     = 1024
)

// appendBounded appends b and drops the oldest entries beyond limit.
func appendBounded(list []Block, b Block, limit int) []Block {
	list = append(list, b)
	if over := len(list) - limit; over > 0 {
		list = append(list[:0:0], list[over:]...)
	}
	return list
}

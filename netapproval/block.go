package netapproval

import (
	"slices"
	"time"
)

// Block records one refused request, so the command's item can say why it
// failed. Blocks are kept per attachment, newest last.
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

// maxAttachmentBlocks bounds the remembered blocks of one command, so a
// command hammering a blocked host cannot grow memory without limit; the
// oldest are dropped first.
const maxAttachmentBlocks = 256

// appendBounded appends b to list, which holds up to 2*limit entries of
// which only the newest limit count (see newestBlocks): the oldest are
// dropped limit at a time, in place, so a burst of refusals costs
// amortized O(1) per append rather than a copy of the whole list each.
func appendBounded(list []Block, b Block, limit int) []Block {
	if len(list) >= 2*limit {
		n := copy(list, list[len(list)-limit+1:])
		clear(list[n:])
		list = list[:n]
	}
	return append(list, b)
}

// newestBlocks returns a copy of the newest limit entries of list.
func newestBlocks(list []Block, limit int) []Block {
	return slices.Clone(list[max(0, len(list)-limit):])
}

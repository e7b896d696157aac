package netapproval

import (
	"slices"
	"time"
)

// Block records why requests to one destination were refused, so the
// command's item can say why it failed.
type Block struct {
	ThreadID  string
	TurnID    string
	CommandID string
	Key       Key
	Reason    Reason
	Source    Source
	Message   string
	Detail    string    // Denial.Detail
	At        time.Time // the latest refusal
}

// maxBlockedDestinations bounds the destinations one command's blocks
// name, so a command trying endless destinations cannot grow memory without
// limit; past it, refused destinations are only counted.
const maxBlockedDestinations = 1024

// blockList keeps one Block per refused destination, in the order the
// destinations were first refused, each with its latest refusal.
type blockList struct {
	list  []Block
	index map[Key]int
	more  int // destinations refused past maxBlockedDestinations
}

func (l *blockList) add(b Block) {
	if i, ok := l.index[b.Key]; ok {
		l.list[i] = b
		return
	}
	if len(l.list) >= maxBlockedDestinations {
		l.more++
		return
	}
	if l.index == nil {
		l.index = make(map[Key]int)
	}
	l.index[b.Key] = len(l.list)
	l.list = append(l.list, b)
}

func (l *blockList) snapshot() ([]Block, int) { return slices.Clone(l.list), l.more }

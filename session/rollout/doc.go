// Package rollout persists threads: one append-only JSONL file per thread
// under <home>/threads (or <home>/archived), and the threads rebuilt from
// them.
//
// Rollout files are <home>/threads/<id>.jsonl and <home>/archived/<id>.jsonl,
// one JSON record per line, appended and never rewritten.
//
// The records (Record) are, in file order:
//
//	{"type":"thread","version":1,"thread":{ThreadMeta}}        first line, written by Create
//	{"type":"meta","meta":{MetaUpdate}}                        a settings change
//	{"type":"turnStarted","turn":{Turn, inProgress, no items}}
//	{"type":"itemStarted","turnId":...,"item":{ThreadItem}}    a command about to run
//	{"type":"itemOutput","turnId":...,"itemId":...,"delta":...} its output so far
//	{"type":"itemCompleted","turnId":...,"item":{ThreadItem}}
//	{"type":"turnCompleted","turn":{Turn, final, no items}}
//	{"type":"tornLine"}                                        ignored (earlier versions wrote it)
//
// A thread is rebuilt by applying them in order: meta records overwrite the
// fields they carry, items are kept per turn in the order they first
// appear (itemCompleted replaces an itemStarted of the same id), and
// turnCompleted sets the turn's final status, error and times.
package rollout

import "errors"

const (
	rolloutDirThreads  = "threads"
	rolloutDirArchived = "archived"
	rolloutExt         = ".jsonl"
	// rolloutVersion is written in the thread record; Load refuses files
	// from a newer format rather than misreading them.
	rolloutVersion = 1
	// maxRolloutLine bounds one line: Append refuses a longer record and
	// Load refuses a longer line, so that whatever was written reads back.
	// The largest record is a command item: its command line (a turn input,
	// under the 16 MiB request cap) twice, as the command and in its
	// actions, each at most twice as long once escaped (U+2028 is written
	// \u2028; nothing is HTML-escaped), and a 1 MiB output tail, which
	// escaping can grow six times.
	defaultMaxRolloutLine = 128 << 20
	// List page sizes.
	listDefaultLimit = 25
	listMaxLimit     = 100
)

// Errors of Store, to be matched with errors.Is.
var (
	ErrThreadNotFound  = errors.New("thread not found")
	ErrThreadExists    = errors.New("thread already exists")
	ErrAlreadyArchived = errors.New("thread is already archived")
	ErrNotArchived     = errors.New("thread is not archived")
	ErrBadCursor       = errors.New("invalid cursor")
)

// maxRolloutLine is defaultMaxRolloutLine; a variable so that tests can
// shorten it.
var maxRolloutLine = defaultMaxRolloutLine

package netapproval

import (
	"context"
	"fmt"
	"time"
)

// Prompter asks the user about one destination. Package session implements
// it (one per thread), turning a PromptRequest into an
// item/commandExecution/requestApproval server request.
//
// PromptNetwork blocks until the client answers or ctx is done. ctx is done
// when the prompt times out (deadline = ExpiresAt), when the thread is
// interrupted or closed, or when the manager closes; then PromptNetwork must
// return promptly with ctx.Err() (and the implementation should tell the
// client the request is resolved). An answer returned after ctx is done is
// ignored. Any error is a denial. It is called on a goroutine owned by the
// thread, never while a netapproval lock is held, and may be called
// concurrently for different keys.
type Prompter interface {
	PromptNetwork(ctx context.Context, req PromptRequest) (Answer, error)
}

// PrompterFunc adapts a function to Prompter.
type PrompterFunc func(ctx context.Context, req PromptRequest) (Answer, error)

// PromptNetwork calls f.
func (f PrompterFunc) PromptNetwork(ctx context.Context, req PromptRequest) (Answer, error) {
	return f(ctx, req)
}

var _ Prompter = PrompterFunc(nil)

// PromptRequest is one network approval question. (Its wire form, the
// synthetic item id and the reason text included, is the Prompter's.)
type PromptRequest struct {
	// Key is the destination; its host is the one amendments must name.
	Key Key
	// TurnID and CommandID attribute the prompt to the command whose request
	// created it (the owner).
	TurnID    string
	CommandID string
	// ExpiresAt is when the prompt times out; zero when it never does.
	ExpiresAt time.Time
}

// AnswerKind is the user's decision on a prompt.
type AnswerKind uint8

const (
	AnswerAllowOnce       AnswerKind = iota + 1 // "accept": this request and its waiters
	AnswerAllowForSession                       // "acceptForSession": the key, for this thread
	AnswerAmendAllow                            // persisted host-wide allow rule
	AnswerAmendDeny                             // persisted host-wide deny rule + session deny of the key
	AnswerDecline                               // deny; the command keeps running
	AnswerCancel                                // deny; Answer.Then interrupts the turn
)

var answerNames = names[AnswerKind]{
	AnswerAllowOnce:       "accept",
	AnswerAllowForSession: "acceptForSession",
	AnswerAmendAllow:      "applyNetworkPolicyAmendment(allow)",
	AnswerAmendDeny:       "applyNetworkPolicyAmendment(deny)",
	AnswerDecline:         "decline",
	AnswerCancel:          "cancel",
}

// String spells the decision for logs and the config key
// network.approval_timeout_default.
func (k AnswerKind) String() string { return answerNames.name(k) }

// ParseTimeoutDefault parses the config key network.approval_timeout_default:
// "decline" or "accept".
func ParseTimeoutDefault(s string) (AnswerKind, error) {
	switch s {
	case "decline":
		return AnswerDecline, nil
	case "accept":
		return AnswerAllowOnce, nil
	}
	return 0, fmt.Errorf("netapproval: approval_timeout_default %q: want decline or accept", s)
}

// Answer is the user's decision. AmendHost is the host named by an
// amendment (AnswerAmendAllow, AnswerAmendDeny); it must normalize to the
// prompt's host or the answer is refused.
type Answer struct {
	Kind      AnswerKind
	AmendHost string
	// Then, if set, runs once the prompt has settled with this answer (not
	// when the answer came too late to count), with no netapproval lock
	// held. The session sets it on a cancel to interrupt the turn after the
	// cancellation is the prompt's recorded outcome.
	Then func()
}

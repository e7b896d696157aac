package netapproval

import (
	"context"
	"errors"
	"net"
	"time"
)

// destination is what a front end read from its wire: the host and port
// as the request named them (port "" means the protocol's default), the
// ingress protocol and, for plain HTTP, the method.
type destination struct {
	host, port string
	protocol   Protocol
	method     string
}

// decide is the one decision path every front end (forward HTTP, CONNECT,
// SOCKS5 CONNECT and UDP) calls: it evaluates the destination for a's
// command (NETWORK.md "Evaluation order"), waits for the prompt when one is
// needed, and accounts for the verdict (a hit on the deciding grant, a
// block record for a denial). The verdict's key says what was decided.
//
// While it waits for a prompt, watch (the requester's connection, when the
// front end has one to spare) is read, so a requester that leaves abandons
// the request; a byte it sends meanwhile (early tunnel data) is returned.
// Without watch the wait ends with ctx.
func (a *Attachment) decide(ctx context.Context, dest destination, watch net.Conn) (v verdict, early []byte) {
	k, ok := requestKey(dest.host, dest.port, dest.protocol)
	if !ok {
		v = verdict{denial: &Denial{Reason: ReasonNotAllowed, Source: SourceBaselinePolicy, Message: "Destination host is not valid."}}
	} else {
		var pd *pending
		if v, pd = a.t.begin(ctx, a, Request{Key: k, Method: dest.method}); pd != nil {
			// waitReading is called from here, not through wait: every
			// frame on the stack at the wait stays there while the
			// connection waits (see waitReading).
			if watch != nil {
				v, early = pd.waitReading(watch)
			} else {
				v = pd.wait(ctx)
			}
		}
	}
	v.key = k
	a.t.account(a, v)
	return v, early
}

// dial connects to an allowed key after vetting its addresses again (DNS
// rebinding). A refusal is recorded for the command and returned as a
// *Denial.
func (a *Attachment) dial(ctx context.Context, k Key) (net.Conn, error) {
	c, err := a.m.dialTCP(ctx, k)
	var d *Denial
	if errors.As(err, &d) {
		a.recordBlock(k, d)
	}
	return c, err
}

// wait waits for the prompt's verdict, or for ctx to end (a front end
// with no connection to watch; see decide).
func (pd *pending) wait(ctx context.Context) verdict {
	select {
	case <-pd.done:
		return pd.verdict
	case <-ctx.Done():
		return abandonedVerdict()
	}
}

// waitReading waits on the requester's own goroutine, blocked in a
// one-byte read of its connection, so that a requester leaving (EOF,
// reset, Close) abandons the request without a second goroutine per
// waiting connection. The prompt settling interrupts the read with a past
// deadline. A byte read meanwhile is returned; the wait then continues
// without watching.
//
// Thousands of connections may wait here at once, so the stack in use
// below this wait is kept under 2 KiB: the garbage collector then shrinks
// each waiting goroutine's stack to 4 KiB, whatever the head parsing and
// the decision grew it to before (it halves a stack less than a quarter
// used). The front ends therefore parse and decide in calls that return
// before the wait, and keep their own frames small (netbench's fan-in
// measures the stacks).
func (pd *pending) waitReading(c net.Conn) (verdict, []byte) {
	fired := make(chan struct{})
	stop := context.AfterFunc(pd.ctx, func() {
		_ = c.SetReadDeadline(time.Unix(1, 0))
		close(fired)
	})
	var b [1]byte
	n, err := c.Read(b[:])
	if !stop() {
		<-fired // the deadline is set; clear it only after
	}
	_ = c.SetReadDeadline(time.Time{})
	switch {
	case n == 1:
		<-pd.done
		return pd.verdict, b[:]
	case isTimeout(err):
		<-pd.done // the prompt's context ends only as it settles
		return pd.verdict, nil
	}
	return abandonedVerdict(), nil
}

// abandonedVerdict is the verdict of a requester that went away before a
// decision: the prompt stays for the others, and its answer is still
// remembered as the user chose.
func abandonedVerdict() verdict {
	return verdict{denial: deny(ReasonUserDenied, SourceDecider), abandoned: true}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

package netapproval

import (
	"context"
	"net/netip"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// resolverFunc adapts a function to Resolver for tests.
type resolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// staticResolver answers from a map and fails for unknown names, so no test
// ever reaches real DNS.
func staticResolver(m map[string]string) Resolver {
	return resolverFunc(func(ctx context.Context, _, host string) ([]netip.Addr, error) {
		s, ok := m[host]
		if !ok {
			return nil, &notFoundError{host}
		}
		return []netip.Addr{netip.MustParseAddr(s)}, nil
	})
}

type notFoundError struct{ host string }

func (e *notFoundError) Error() string { return "no such host " + e.host }

// check decides req for a on the front ends' path (Attachment.decide),
// waiting for a prompt until ctx is done.
func (t *Thread) check(ctx context.Context, a *Attachment, req Request) verdict {
	k := req.Key
	v, _ := a.decide(ctx, destination{host: k.Host, port: strconv.Itoa(int(k.Port)), protocol: k.Protocol, method: req.Method}, nil)
	return v
}

// blocksOf is the destinations refused for a.
func blocksOf(a *Attachment) []Block {
	b, _ := a.Blocks()
	return b
}

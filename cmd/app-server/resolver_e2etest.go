//go:build e2etest

package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"

	"app-server/netapproval"
)

// TEST ONLY. Built only with -tags e2etest (never in a release build):
// the end-to-end tests need names that resolve to their servers on
// 127.0.0.1, and then to resolve differently on a later lookup, to show
// that no name rule lifts the local/private protection (DNS rebinding).
//
// APP_SERVER_E2E_HOSTS="name=addr[|addr...],..." answers name with its
// addresses in turn, one per lookup, the last one repeating; other names
// fail to resolve.
func proxyResolver() netapproval.Resolver {
	spec := os.Getenv("APP_SERVER_E2E_HOSTS")
	if spec == "" {
		return nil
	}
	r := &tableResolver{answers: make(map[string][]netip.Addr)}
	for entry := range strings.SplitSeq(spec, ",") {
		name, addrs, _ := strings.Cut(entry, "=")
		for a := range strings.SplitSeq(addrs, "|") {
			r.answers[name] = append(r.answers[name], netip.MustParseAddr(a))
		}
	}
	return r
}

type tableResolver struct {
	mu      sync.Mutex
	answers map[string][]netip.Addr
}

func (r *tableResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.answers[host]
	if len(list) == 0 {
		return nil, fmt.Errorf("e2etest resolver: no such host %s", host)
	}
	if len(list) > 1 {
		r.answers[host] = list[1:]
	}
	return list[:1], nil
}

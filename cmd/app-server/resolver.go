//go:build !e2etest

package main

import "app-server/netapproval"

// proxyResolver is the resolver of the network proxy: nil, the system's.
// (A build with the e2etest tag may answer from a table instead, see
// resolver_e2etest.go; release builds never do.)
func proxyResolver() netapproval.Resolver { return nil }

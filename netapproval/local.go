package netapproval

import (
	"net/netip"
	"strings"
)

// nonPublicPrefixes are ranges that are not globally routable beyond what
// netip's predicates cover (loopback, private, link-local, multicast,
// unspecified). Anything here is treated as local: reaching it through the
// proxy would let a command talk to the machine or its LAN.
var nonPublicPrefixes = mustPrefixes(
	"0.0.0.0/8",       // "this network"
	"100.64.0.0/10",   // carrier-grade NAT
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // TEST-NET-1
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // TEST-NET-2
	"203.0.113.0/24",  // TEST-NET-3
	"240.0.0.0/4",     // reserved, and broadcast
	"::/96",           // IPv4-compatible (deprecated)
	"100::/64",        // discard-only
	"2001::/23",       // IETF protocol assignments (Teredo, ORCHID, ...)
	"2001:db8::/32",   // documentation
	"fec0::/10",       // site-local (deprecated)
	"64:ff9b:1::/48",  // local-use NAT64
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// nat64 is the well-known NAT64 prefix; the IPv4 address it embeds decides.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// sixToFour embeds an IPv4 address in bits 16..48; that address decides.
var sixToFour = netip.MustParsePrefix("2002::/16")

// IsNonPublic reports whether a is anything but a public unicast address:
// loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified,
// multicast, documentation and reserved ranges, and IPv6 forms that embed
// such an IPv4 address (IPv4-mapped, NAT64, 6to4).
func IsNonPublic(a netip.Addr) bool {
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		return IsNonPublic(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if a.Is6() && sixToFour.Contains(a) {
		b := a.As16()
		return IsNonPublic(netip.AddrFrom4([4]byte(b[2:6])))
	}
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return true
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// addrKind names the kind of a non-public address, with its article: "a
// loopback address", "a private address". IPv4 embedded in IPv6 (mapped,
// NAT64, 6to4) is named by the IPv4 address.
func addrKind(a netip.Addr) string {
	a = a.WithZone("")
	switch {
	case a.Is4In6():
		return addrKind(a.Unmap())
	case a.Is6() && nat64.Contains(a):
		b := a.As16()
		return addrKind(netip.AddrFrom4([4]byte(b[12:16])))
	case a.Is6() && sixToFour.Contains(a):
		b := a.As16()
		return addrKind(netip.AddrFrom4([4]byte(b[2:6])))
	case !a.IsValid(), a.IsUnspecified():
		return "an unspecified"
	case a.IsLoopback():
		return "a loopback"
	case a.IsPrivate():
		return "a private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "a link-local"
	case a.IsMulticast():
		return "a multicast"
	}
	return "a reserved"
}

// isLocalName reports names that are local by definition (RFC 6761), so
// they are refused without asking a resolver that might say otherwise.
func isLocalName(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

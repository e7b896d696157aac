package netapproval

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// NormalizeHost returns the canonical spelling of a destination host, the
// form Keys, rules and grants use:
//
//   - surrounding spaces are trimmed;
//   - "[...]" around an IPv6 literal is removed (with any ":port" after it);
//   - a ":port" suffix is removed when the text has exactly one colon (more
//     colons mean an unbracketed IPv6 literal, whose last group is not a port);
//   - letters are lowercased (except an IPv6 zone id, kept as written);
//   - trailing dots are removed;
//   - IPv6 literals are otherwise kept as written, zone id included.
//
// It fails for an empty host, a malformed IP literal, or characters that
// cannot appear in a DNS name. A request whose host fails is denied.
func NormalizeHost(host string) (string, error) {
	return normalize(host, false)
}

// normalize implements NormalizeHost; glob allows '*' in names, which host
// patterns use.
func normalize(raw string, glob bool) (string, error) {
	h := strings.TrimSpace(raw)
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", fmt.Errorf("netapproval: host %q: missing ']'", raw)
		}
		rest := h[end+1:]
		if rest != "" && !strings.HasPrefix(rest, ":") {
			return "", fmt.Errorf("netapproval: host %q: junk after ']'", raw)
		}
		h = h[1:end]
		if !strings.Contains(h, ":") {
			return "", fmt.Errorf("netapproval: host %q: brackets around a non-IPv6 host", raw)
		}
	} else if strings.Count(h, ":") == 1 {
		h = h[:strings.IndexByte(h, ':')]
	}
	if strings.Contains(h, ":") {
		return normalizeIPv6(raw, h)
	}
	h = strings.TrimRight(strings.ToLower(h), ".")
	if h == "" {
		return "", fmt.Errorf("netapproval: host %q is empty", raw)
	}
	if err := checkName(h, glob); err != nil {
		return "", fmt.Errorf("netapproval: host %q: %w", raw, err)
	}
	return h, nil
}

// normalizeIPv6 lowercases the address part and keeps the zone id verbatim;
// zone ids name interfaces, and interface names are case-sensitive.
func normalizeIPv6(raw, h string) (string, error) {
	addrPart, zone, hasZone := strings.Cut(h, "%")
	out := strings.ToLower(addrPart)
	if hasZone {
		if zone == "" {
			return "", fmt.Errorf("netapproval: host %q: empty IPv6 zone", raw)
		}
		out += "%" + zone
	}
	if _, err := netip.ParseAddr(out); err != nil {
		return "", fmt.Errorf("netapproval: host %q: %w", raw, err)
	}
	return out, nil
}

var errEmptyLabel = errors.New("empty label")

// checkName accepts what resolvers accept in practice: letters, digits, '-'
// and '_' in non-empty labels of at most 63 bytes.
func checkName(h string, glob bool) error {
	if len(h) > 253 {
		return errors.New("name longer than 253 bytes")
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" {
			return errEmptyLabel
		}
		if len(label) > 63 {
			return errors.New("label longer than 63 bytes")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			case c == '*' && glob:
			default:
				return fmt.Errorf("invalid character %q", c)
			}
		}
	}
	return nil
}

// hostAddr parses a normalized host as an IP literal.
func hostAddr(host string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(host)
	return a, err == nil
}

package netapproval

import (
	"fmt"
	"slices"
	"strings"
)

// patternKind says how a host pattern matches.
type patternKind uint8

const (
	patExact      patternKind = iota + 1 // "example.com": that host only
	patSubdomain                         // "*.example.com": subdomains at any depth, not the apex
	patApexAndSub                        // "**.example.com": the apex and its subdomains
	patAny                               // "*": every host (allow lists only)
	patLabelGlob                         // "region*.cdn.example": '*' within one label
)

// pattern is one compiled host pattern.
type pattern struct {
	text   string // normalized spelling, as written back to files
	kind   patternKind
	suffix string   // patSubdomain, patApexAndSub: the domain after the wildcard
	labels []string // patLabelGlob: per-label globs
}

// parsePattern normalizes and compiles one host pattern.
func parsePattern(raw string) (pattern, error) {
	t := strings.TrimSpace(raw)
	switch {
	case t == "*" || t == "**":
		return pattern{text: "*", kind: patAny}, nil
	case strings.HasPrefix(t, "**."):
		s, err := normalize(t[3:], false)
		if err != nil {
			return pattern{}, err
		}
		return pattern{text: "**." + s, kind: patApexAndSub, suffix: s}, nil
	case strings.HasPrefix(t, "*."):
		s, err := normalize(t[2:], false)
		if err != nil {
			return pattern{}, err
		}
		return pattern{text: "*." + s, kind: patSubdomain, suffix: s}, nil
	}
	h, err := normalize(t, true)
	if err != nil {
		return pattern{}, err
	}
	if !strings.Contains(h, "*") {
		return pattern{text: h, kind: patExact}, nil
	}
	if strings.Contains(h, "**") {
		return pattern{}, fmt.Errorf("netapproval: pattern %q: \"**\" is only allowed as a leading \"**.\" label", raw)
	}
	return pattern{text: h, kind: patLabelGlob, labels: strings.Split(h, ".")}, nil
}

// matches reports whether the normalized host matches p.
func (p pattern) matches(host string) bool {
	switch p.kind {
	case patExact:
		return host == p.text
	case patAny:
		return true
	case patSubdomain:
		return strings.HasSuffix(host, "."+p.suffix)
	case patApexAndSub:
		return host == p.suffix || strings.HasSuffix(host, "."+p.suffix)
	case patLabelGlob:
		labels := strings.Split(host, ".")
		if len(labels) != len(p.labels) {
			return false
		}
		for i, g := range p.labels {
			if !globLabel(g, labels[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// globLabel matches one label against a glob where '*' matches any run of
// characters. Labels never contain '.', so a match cannot cross labels.
func globLabel(glob, s string) bool {
	star := strings.IndexByte(glob, '*')
	if star < 0 {
		return glob == s
	}
	prefix, rest := glob[:star], glob[star+1:]
	if !strings.HasPrefix(s, prefix) {
		return false
	}
	s = s[len(prefix):]
	for i := 0; i <= len(s); i++ {
		if globLabel(rest, s[i:]) {
			return true
		}
	}
	return false
}

// patternSet is an immutable list of patterns, deduplicated by spelling.
type patternSet struct {
	pats []pattern
}

// listKind distinguishes allow lists from deny lists when compiling, since
// "*" is only meaningful (and only safe) in an allow list.
type listKind uint8

const (
	allowList listKind = iota + 1
	denyList
)

// compilePatterns compiles a config list. name is used in errors, e.g.
// "denied_domains".
func compilePatterns(name string, kind listKind, raw []string) (patternSet, error) {
	var set patternSet
	for _, r := range raw {
		p, err := parsePattern(r)
		if err != nil {
			return patternSet{}, fmt.Errorf("%s: %w", name, err)
		}
		if p.kind == patAny && kind == denyList {
			return patternSet{}, fmt.Errorf("%s: %q is not allowed: to deny all network access, set network.enabled = false (no network at all under the read-only and workspace-write sandboxes)", name, r)
		}
		set = set.with(p)
	}
	return set, nil
}

// with returns a set that also holds p (the receiver is not modified).
func (s patternSet) with(p pattern) patternSet {
	if slices.ContainsFunc(s.pats, func(q pattern) bool { return q.text == p.text }) {
		return s
	}
	return patternSet{pats: append(slices.Clip(s.pats), p)}
}

// match returns the first pattern matching host.
func (s patternSet) match(host string) (pattern, bool) {
	for _, p := range s.pats {
		if p.matches(host) {
			return p, true
		}
	}
	return pattern{}, false
}

// hasExact reports whether host is listed literally. Only literal entries
// lift local/private protection; wildcards never do.
func (s patternSet) hasExact(host string) bool {
	return slices.ContainsFunc(s.pats, func(p pattern) bool { return p.kind == patExact && p.text == host })
}

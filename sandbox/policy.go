package sandbox

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
)

// Mode is how much of the file system a command may write.
type Mode int

const (
	// ReadOnly: no writes except /dev/null and friends and the command's
	// own pipes and terminal.
	ReadOnly Mode = iota + 1
	// WorkspaceWrite: writes under Policy.WritableRoots only, except
	// Policy.ReadOnlyPaths.
	WorkspaceWrite
	// FullAccess: no sandbox at all; Wrap leaves the command alone.
	FullAccess
)

func (m Mode) String() string {
	switch m {
	case ReadOnly:
		return "read-only"
	case WorkspaceWrite:
		return "workspace-write"
	case FullAccess:
		return "danger-full-access"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Network is what network a sandboxed command reaches.
type Network int

const (
	// NetworkNone: a network namespace with only lo; nothing outside.
	NetworkNone Network = iota + 1
	// NetworkProxy: only the managed proxy, through Policy.Proxy.
	NetworkProxy
)

func (n Network) String() string {
	switch n {
	case NetworkNone:
		return "none"
	case NetworkProxy:
		return "proxy-only"
	}
	return fmt.Sprintf("Network(%d)", int(n))
}

// ProxySockets are where the managed proxy listens: its Unix socket entry
// points, which the in-sandbox relay connects to (Linux), and its loopback
// ports, which the Seatbelt profile lets a command reach (macOS).
type ProxySockets struct {
	HTTP      string `json:"http"`
	SOCKS     string `json:"socks"`
	HTTPPort  uint16 `json:"httpPort,omitempty"`
	SOCKSPort uint16 `json:"socksPort,omitempty"`
}

// Policy is what one command may do. Paths are absolute.
type Policy struct {
	Mode Mode `json:"mode"`
	// WritableRoots are the directories a WorkspaceWrite command may write
	// under (the cwd, configured roots, /tmp, $TMPDIR). Ignored otherwise.
	WritableRoots []string `json:"writableRoots,omitempty"`
	// ReadOnlyPaths stay read-only even under a writable root: the .git of
	// a writable root and the server's home. Paths that do not exist are
	// skipped.
	ReadOnlyPaths []string `json:"readOnlyPaths,omitempty"`
	Network       Network  `json:"network"`
	// Proxy is required with NetworkProxy.
	Proxy *ProxySockets `json:"proxy,omitempty"`
}

// Validate checks a policy before it is used.
func (p *Policy) Validate() error {
	switch p.Mode {
	case ReadOnly, WorkspaceWrite, FullAccess:
	default:
		return fmt.Errorf("sandbox: unknown mode %d", int(p.Mode))
	}
	if p.Mode == FullAccess {
		return nil
	}
	switch p.Network {
	case NetworkNone:
	case NetworkProxy:
		if p.Proxy == nil || (p.Proxy.HTTP == "" || p.Proxy.SOCKS == "") && p.Proxy.HTTPPort == 0 {
			return errors.New("sandbox: proxy-only network needs the proxy's Unix sockets or ports")
		}
	default:
		return fmt.Errorf("sandbox: unknown network %d", int(p.Network))
	}
	for _, list := range [][]string{p.WritableRoots, p.ReadOnlyPaths} {
		for _, path := range list {
			if !filepath.IsAbs(path) {
				return fmt.Errorf("sandbox: path %q is not absolute", path)
			}
		}
	}
	return nil
}

// WorkspaceRoots returns the writable roots of workspace-write with
// Codex's semantics: cwd, the extra roots, /tmp unless excludeSlashTmp, and
// tmpdir ($TMPDIR) unless excludeTmpdir or empty; cleaned, deduplicated.
func WorkspaceRoots(cwd string, extra []string, excludeSlashTmp, excludeTmpdir bool, tmpdir string) []string {
	roots := []string{cwd}
	roots = append(roots, extra...)
	if !excludeSlashTmp {
		roots = append(roots, "/tmp")
	}
	if !excludeTmpdir && tmpdir != "" && filepath.IsAbs(tmpdir) {
		roots = append(roots, tmpdir)
	}
	out := make([]string, 0, len(roots))
	for _, r := range roots {
		r = filepath.Clean(r)
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// ProtectedPaths returns the paths that stay read-only under the writable
// roots: each root's .git and home (the server's home), when they lie
// under a root.
func ProtectedPaths(roots []string, home string) []string {
	var out []string
	for _, r := range roots {
		out = append(out, filepath.Join(r, ".git"))
	}
	if home != "" {
		home = filepath.Clean(home)
		// The home's real place decides whether a root holds it (a home
		// reached through a link is still the rules and rollouts).
		if real, err := filepath.EvalSymlinks(home); err == nil {
			home = real
		}
		for _, r := range roots {
			if real, err := filepath.EvalSymlinks(r); err == nil {
				r = real
			}
			if under(home, r) {
				out = append(out, home)
				break
			}
		}
	}
	return out
}

// under reports whether path is root or below it.
func under(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !startsWithDotDot(rel)
}

func startsWithDotDot(rel string) bool {
	return len(rel) >= 3 && rel[:3] == ".."+string(filepath.Separator)
}

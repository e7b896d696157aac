package sandbox

import (
	"fmt"
	"strings"
)

// Support is what this machine can enforce, as Probe found it.
type Support struct {
	// OS is runtime.GOOS.
	OS string
	// Namespaces reports that the helper could create its user, network,
	// pid and mount namespaces, mount /proc, bring lo up and start a
	// command in a nested user namespace. NamespacesErr says why not.
	Namespaces    bool
	NamespacesErr string
	// LandlockABI is the kernel's Landlock ABI version, 0 without Landlock.
	LandlockABI int
	// Seccomp reports seccomp filter support.
	Seccomp bool
	// Seatbelt reports that /usr/bin/sandbox-exec exists (macOS).
	Seatbelt bool
	// Forced is set when the test hook forced this answer.
	Forced string
}

// Missing names what a command under mode needs and this machine lacks;
// empty when mode can be enforced. FullAccess needs nothing.
func (s Support) Missing(mode Mode) []string {
	if mode == FullAccess {
		return nil
	}
	var missing []string
	switch s.OS {
	case "linux":
		if !s.Namespaces {
			m := "user namespaces"
			if s.NamespacesErr != "" {
				m += " (" + s.NamespacesErr + ")"
			}
			missing = append(missing, m)
		}
		if s.LandlockABI < 1 {
			missing = append(missing, "Landlock")
		}
		if !s.Seccomp {
			missing = append(missing, "seccomp")
		}
	case "darwin":
		if !s.Seatbelt {
			missing = append(missing, "/usr/bin/sandbox-exec")
		}
	default:
		missing = append(missing, "an OS sandbox for "+s.OS)
	}
	return missing
}

// Report describes what is enforced, one fact per line, for
// "app-server sandbox check".
func (s Support) Report() string {
	var b strings.Builder
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(&b, "os: %s\n", s.OS)
	if s.Forced != "" {
		fmt.Fprintf(&b, "forced by test hook: %s\n", s.Forced)
	}
	switch s.OS {
	case "linux":
		ns := yes(s.Namespaces)
		if s.NamespacesErr != "" {
			ns += " (" + s.NamespacesErr + ")"
		}
		fmt.Fprintf(&b, "namespaces (user, net, pid, mount): %s\n", ns)
		fmt.Fprintf(&b, "landlock abi: %d\n", s.LandlockABI)
		fmt.Fprintf(&b, "seccomp: %s\n", yes(s.Seccomp))
	case "darwin":
		fmt.Fprintf(&b, "sandbox-exec: %s\n", yes(s.Seatbelt))
	}
	for _, m := range []Mode{ReadOnly, WorkspaceWrite} {
		if miss := s.Missing(m); len(miss) > 0 {
			fmt.Fprintf(&b, "%s: not enforced (missing %s)\n", m, strings.Join(miss, ", "))
		} else {
			fmt.Fprintf(&b, "%s: enforced\n", m)
		}
	}
	fmt.Fprintf(&b, "%s: no sandbox\n", FullAccess)
	return b.String()
}

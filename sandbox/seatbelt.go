package sandbox

import (
	"fmt"
	"strings"
)

// SeatbeltProfile returns the Seatbelt (SBPL) profile that holds a command
// to p on macOS, for sandbox-exec -p. Later rules win over earlier ones,
// so the profile allows by default, then denies every write and every
// network operation, then allows back what p grants: writes under the
// writable roots (minus the read-only paths, denied again last), the
// device files a command needs, and outbound connections to the proxy's
// loopback ports. The profile is inherited by every process the command
// starts. It is generated on every OS so that its text is tested here;
// enforcement itself is untested on our machines.
func SeatbeltProfile(p Policy) string {
	var b strings.Builder
	b.WriteString("(version 1)\n(allow default)\n")
	b.WriteString("(deny file-write*)\n")
	b.WriteString("(allow file-write*\n")
	for _, d := range devWritableFiles {
		fmt.Fprintf(&b, "  (literal %s)\n", sbplString(d))
	}
	b.WriteString("  (regex #\"^/dev/ttys[0-9]+$\")\n  (regex #\"^/dev/fd/[0-9]+$\"))\n")
	if p.Mode == WorkspaceWrite && len(p.WritableRoots) > 0 {
		b.WriteString("(allow file-write*")
		for _, r := range p.WritableRoots {
			fmt.Fprintf(&b, "\n  (subpath %s)", sbplString(r))
		}
		b.WriteString(")\n")
		if len(p.ReadOnlyPaths) > 0 {
			b.WriteString("(deny file-write*")
			for _, r := range p.ReadOnlyPaths {
				fmt.Fprintf(&b, "\n  (subpath %s)", sbplString(r))
			}
			b.WriteString(")\n")
		}
	}
	b.WriteString("(deny network*)\n")
	if p.Network == NetworkProxy && p.Proxy != nil {
		b.WriteString("(allow network-outbound")
		for _, port := range []uint16{p.Proxy.HTTPPort, p.Proxy.SOCKSPort} {
			if port != 0 {
				fmt.Fprintf(&b, "\n  (remote ip \"localhost:%d\")", port)
			}
		}
		b.WriteString(")\n")
	}
	return b.String()
}

// devWritableFiles are the device files every sandboxed command may
// write (SANDBOX.md: /dev/null and friends, and its terminal).
var devWritableFiles = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx"}

// sbplString quotes s as an SBPL string literal.
func sbplString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

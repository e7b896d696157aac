package sandbox

import (
	"github.com/landlock-lsm/go-landlock/landlock"
	"golang.org/x/sys/unix"
)

// devWritable are the device files every sandboxed command may write
// (SANDBOX.md: /dev/null and friends, and its terminal).
var devWritable = devWritableFiles

// restrictFiles applies the policy's write rules with Landlock, as far as
// the kernel's ABI goes (best effort; Probe requires ABI 1 at least):
// reads and execution everywhere, writes under the writable roots only
// (read-only paths below them are read-only mounts, see setupMounts).
func restrictFiles(p Policy) error {
	rules := []landlock.Rule{
		landlock.RODirs("/"),
		landlock.RWFiles(devWritable...).IgnoreIfMissing(),
		landlock.RWDirs("/dev/pts").WithIoctlDev().IgnoreIfMissing(),
	}
	if p.Mode == WorkspaceWrite && len(p.WritableRoots) > 0 {
		// Refer lets mv and ln work between directories of the roots.
		rules = append(rules, landlock.RWDirs(p.WritableRoots...).WithRefer().IgnoreIfMissing())
	}
	return landlock.V11.BestEffort().RestrictPaths(rules...)
}

// landlockABI returns the kernel's Landlock ABI version, 0 if none.
func landlockABI() int {
	const createRulesetVersion = 1 // LANDLOCK_CREATE_RULESET_VERSION
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, createRulesetVersion)
	if errno != 0 {
		return 0
	}
	return int(v)
}

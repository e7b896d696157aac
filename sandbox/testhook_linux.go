package sandbox

import (
	"os"
	"runtime"
	"strings"
)

// ---- TEST HOOK ------------------------------------------------------------
// ForceUnsupportedEnv, set in the server's environment, makes Probe report
// that this machine lacks what the variable names ("namespaces",
// "landlock", "seccomp", comma-separated, or "all"), so tests can drive
// the fail-closed path on a machine that enforces everything. It can only
// take enforcement away, never claim it.
const ForceUnsupportedEnv = "APP_SERVER_TEST_FORCE_SANDBOX_UNSUPPORTED"

func forcedSupport() (Support, bool) {
	v := os.Getenv(ForceUnsupportedEnv)
	if v == "" {
		return Support{}, false
	}
	s := Support{OS: runtime.GOOS, Forced: v}
	all := v == "all"
	has := func(what string) bool { return !all && !strings.Contains(v, what) }
	if has("namespaces") {
		s.Namespaces = true
	} else {
		s.NamespacesErr = "forced by " + ForceUnsupportedEnv
	}
	if has("landlock") {
		s.LandlockABI = landlockABI()
	}
	if has("seccomp") {
		s.Seccomp = true
	}
	return s, true
}

// ---- END TEST HOOK --------------------------------------------------------

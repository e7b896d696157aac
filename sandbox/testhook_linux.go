package sandbox

import (
	"os"
	"runtime"
	"strings"
)

// ---- TEST HOOK (see ForceUnsupportedEnv) -----------------------------------
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

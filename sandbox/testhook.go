package sandbox

// ---- TEST HOOK ------------------------------------------------------------
// ForceUnsupportedEnv, set in the server's environment, makes Probe (on
// Linux) report that this machine lacks what the variable names
// ("namespaces", "landlock", "seccomp", comma-separated, or "all"), so
// tests can drive the fail-closed path on a machine that enforces
// everything. It can only take enforcement away, never claim it.
const ForceUnsupportedEnv = "APP_SERVER_TEST_FORCE_SANDBOX_UNSUPPORTED"

// ---- END TEST HOOK --------------------------------------------------------

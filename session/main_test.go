package session

import (
	"os"
	"testing"

	"app-server/sandbox"
)

// TestMain lets the test binary serve as the sandbox helper: commands of
// the Managers under test run sandboxed, and the helper is this binary.
func TestMain(m *testing.M) {
	sandbox.RunHelper()
	os.Exit(m.Run())
}

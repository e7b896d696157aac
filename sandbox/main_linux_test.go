package sandbox

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the sandbox helper: Wrap
// re-executes the running binary.
func TestMain(m *testing.M) {
	RunHelper()
	os.Exit(m.Run())
}

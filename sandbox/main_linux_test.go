package sandbox

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain lets the test binary serve as the sandbox helper (Wrap
// re-executes the running binary), then runs the tests and checks that
// none leaves a goroutine behind.
func TestMain(m *testing.M) {
	RunHelper()
	goleak.VerifyTestMain(m)
}

//go:build !linux && !darwin

package sandbox

import (
	"errors"
	"math"
	"os/exec"
	"runtime"
	"strings"
)

// RunHelper returns at once: no stage runs on this OS.
func RunHelper() { helperWired.Store(true) }

// Probe reports that nothing can be enforced on this OS.
func Probe() Support { return Support{OS: runtime.GOOS} }

// Wrap fails closed for every sandboxed mode: this OS has no sandbox
// app-server can drive.
func Wrap(cmd *exec.Cmd, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Mode == FullAccess {
		return nil
	}
	return errors.New("sandbox: cannot enforce " + p.Mode.String() + " here: missing " + strings.Join(Probe().Missing(p.Mode), ", "))
}

// sigsysExit never matches an exit status here (nothing runs sandboxed).
const sigsysExit = math.MinInt

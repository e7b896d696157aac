//go:build darwin

package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"strings"
)

// seatbeltExec is macOS's sandbox front end.
const seatbeltExec = "/usr/bin/sandbox-exec"

// RunHelper returns at once: on macOS sandbox-exec is the helper.
func RunHelper() { helperWired.Store(true) }

// Probe reports whether sandbox-exec exists.
func Probe() Support {
	_, err := os.Stat(seatbeltExec)
	return Support{OS: "darwin", Seatbelt: err == nil}
}

// Wrap rewrites cmd to run under sandbox-exec with the profile of p. The
// network is held to the proxy's loopback ports (there is no relay on
// macOS). With FullAccess it leaves cmd alone.
func Wrap(cmd *exec.Cmd, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Mode == FullAccess {
		return nil
	}
	if miss := Probe().Missing(p.Mode); len(miss) > 0 {
		return errors.New("sandbox: cannot enforce " + p.Mode.String() + " here: missing " + strings.Join(miss, ", "))
	}
	if cmd.Err != nil {
		return cmd.Err
	}
	args := append([]string{"sandbox-exec", "-p", SeatbeltProfile(p), "--", cmd.Path}, cmd.Args[1:]...)
	cmd.Path, cmd.Args = seatbeltExec, args
	return nil
}

// sigsysExit is the exit status of a command killed by SIGSYS (12 on
// macOS) as a shell reports it.
const sigsysExit = 128 + 12

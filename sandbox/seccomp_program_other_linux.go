//go:build linux && !amd64

package sandbox

import (
	"golang.org/x/net/bpf"

	"app-server/sandbox/internal/seccompfilter"
)

// commandProgram assembles the command's seccomp filter at run time (on
// amd64 it is assembled ahead of time: zz_seccomp_program_amd64.go).
func commandProgram() ([]bpf.RawInstruction, error) { return seccompfilter.Assemble() }

//go:build !linux

package sandbox

import (
	"os"
	"os/exec"
)

// Spares keeps pre-started helpers on Linux only; elsewhere Start always
// leaves the command to Wrap.
type Spares struct{}

// NewSpares returns a set that never has a spare.
func NewSpares() *Spares { return &Spares{} }

// Process is a command started on a spare helper (Linux only).
type Process struct{ Pid int }

// Wait is never reached: Start returns no Process here.
func (p *Process) Wait() (int, error) { return -1, os.ErrInvalid }

// Prestart does nothing: there is never a spare.
func (s *Spares) Prestart() {}

// Start returns nil, nil: the caller uses Wrap and cmd.Start.
func (s *Spares) Start(cmd *exec.Cmd, p Policy) (*Process, error) { return nil, nil }

// Ready returns nil: there is never a spare.
func (s *Spares) Ready() <-chan struct{} { return nil }

// Close does nothing.
func (s *Spares) Close() {}

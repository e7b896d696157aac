//go:build race

package netapproval

// raceEnabled: the race detector instruments every function, which
// changes stack frame sizes (TestWaitingConnectStackShrinks).
const raceEnabled = true

//go:build race

package e2e

// raceEnabled: the tests run under the race detector, so the server under
// test is built with it too and races in the server fail the flows.
const raceEnabled = true

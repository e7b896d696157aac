//go:build !race

package netapproval

const raceEnabled = false

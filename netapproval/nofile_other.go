//go:build !unix

package netapproval

// openFileLimit is unknown here: the admission ceiling is then
// maxUnauthenticated.
func openFileLimit() uint64 { return 0 }

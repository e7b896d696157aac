//go:build !linux

package main

// dropPageCache does nothing here: the RSS figures read /proc, which only
// Linux has.
func dropPageCache(string) error { return nil }

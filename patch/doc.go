// Package patch reads and applies patches in the apply_patch format that
// Codex's models write:
//
//	*** Begin Patch
//	*** Add File: hello.txt
//	+Hello, world!
//	*** Update File: src/app.py
//	*** Move to: src/main.py
//	@@ def greet():
//	-print("Hi")
//	+print("Hello")
//	*** Delete File: obsolete.txt
//	*** End Patch
//
// Parse reads a patch; Plan resolves it against the file system (reading
// every file it touches and computing the new contents, so that a patch
// that does not apply changes nothing); Apply writes a plan, each file
// atomically (temporary file, fsync, rename). Every change carries a
// unified diff. The package is a leaf: it imports only the standard
// library.
package patch

package main

import (
	"os"
	"syscall"
)

// dropPageCache writes the file at path back to disk if it is dirty (a
// binary just built) and asks the kernel to drop its cached pages
// (posix_fadvise POSIX_FADV_DONTNEED, which leaves dirty pages alone;
// only this one file's pages go), so that the next process maps the
// executable as read back from disk.
//
// Why: a process's RSS counts the pages of its executable it has mapped,
// and on a fault the kernel maps the whole page-cache folio around the
// address (Linux 6.18 maps entire large folios). How large those folios
// are depends on how the file entered the cache: an executable just
// written by the external linker (the server links cgo since the sandbox
// landed) sits in large folios, and the same bytes measured 2.1 MiB more
// RSS than after a copy or a read back from disk. Read back from disk is
// how an installed binary runs, so both servers are measured that way.
func dropPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	const fadvDontNeed = 4 // POSIX_FADV_DONTNEED
	if _, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); errno != 0 {
		return &os.PathError{Op: "fadvise", Path: path, Err: errno}
	}
	return nil
}

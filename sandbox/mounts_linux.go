package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// prepareMounts runs in the helper's new mount namespace before it knows
// the command: it stops mount events from propagating back to the
// server's namespace, mounts a /proc of the new pid namespace (showing
// only the sandbox's processes), a devpts instance of its own and a
// private, empty /dev/shm: the host's shared memory objects are not the
// command's to see, and under workspace-write (restrictFiles) POSIX
// shared memory and semaphores work without anything the command puts
// there outliving it.
func prepareMounts() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	if err := mountPts(); err != nil {
		return err
	}
	return mountShm()
}

// mountPts mounts a new devpts instance on /dev/pts, with its ptmx on
// /dev/ptmx, where the host has them. The host's holds the terminals of
// the server's user, which the command, the same user, could open (under
// Landlock /dev/pts is writable, for ptys of its own): to write into the
// user's shell, or read what is typed there.
func mountPts() error {
	if st, err := os.Stat("/dev/pts"); err != nil || !st.IsDir() {
		return nil
	}
	if err := unix.Mount("devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return fmt.Errorf("mounting /dev/pts: %w", err)
	}
	if err := unix.Mount("/dev/pts/ptmx", "/dev/ptmx", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding /dev/ptmx: %w", err)
	}
	return nil
}

// mountShm mounts an empty tmpfs on /dev/shm, where there is one.
func mountShm() error {
	if st, err := os.Stat(sandboxShm); err != nil || !st.IsDir() {
		return nil
	}
	if err := unix.Mount("tmpfs", sandboxShm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fmt.Errorf("mounting %s: %w", sandboxShm, err)
	}
	return nil
}

// sandboxShm is the shared-memory directory each sandbox gets to itself.
const sandboxShm = "/dev/shm"

// policyMounts makes the policy's read-only paths read-only bind mounts
// (Landlock cannot deny a path below one it allows) and returns them, as
// O_PATH descriptors of the mounts.
func policyMounts(p Policy) ([]int, error) {
	if p.Mode != WorkspaceWrite {
		return nil, nil
	}
	var mounted []int
	for _, path := range p.ReadOnlyPaths {
		fd, err := bindReadOnly(path)
		if fd >= 0 {
			mounted = append(mounted, fd)
		}
		if err != nil {
			return mounted, err
		}
	}
	return mounted, nil
}

// resetMounts undoes a command's policy mounts and gives the sandbox a
// new, empty /dev/shm, so that the next command finds the sandbox as a
// new one would be. Each mount is undone through its descriptor, not its
// path: the command may have moved the directory above it, or turned the
// path (a symlink under a writable root) to another mount, /proc say,
// which the next command would then not have.
func resetMounts(mounted []int) error {
	for i := len(mounted) - 1; i >= 0; i-- {
		err := unix.Unmount(fdPath(mounted[i]), unix.MNT_DETACH)
		unix.Close(mounted[i])
		if err != nil {
			return fmt.Errorf("unmounting a read-only path: %w", err)
		}
	}
	if err := unix.Unmount(sandboxShm, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("unmounting %s: %w", sandboxShm, err)
	}
	return mountShm()
}

// fdPath names what fd refers to, through the helper's own /proc.
func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// bindReadOnly bind-mounts path onto itself read-only and returns an
// O_PATH descriptor of the new mount, -1 if it made none. A path that
// does not exist is skipped: there is nothing to protect.
func bindReadOnly(path string) (int, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		// A link is followed only to a place in the directory that holds
		// it (a repository's relocated git directory): one planted under
		// a shared writable root, /tmp/.git say, must not make another
		// project read-only for every later command.
		target, err := filepath.EvalSymlinks(path)
		if errors.Is(err, fs.ErrNotExist) {
			return -1, nil
		}
		if err != nil {
			return -1, fmt.Errorf("resolving %s: %w", path, err)
		}
		dir, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil || !under(target, dir) {
			return -1, nil
		}
		path = target
	}
	if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return -1, fmt.Errorf("bind-mounting %s: %w", path, err)
	}
	// Nothing but the helper runs now: path still names the new mount.
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening %s: %w", path, err)
	}
	// A remount in a user namespace must keep the flags the original mount
	// locked (nosuid, nodev, noexec, atime), or the kernel refuses it.
	var fsst unix.Statfs_t
	if err := unix.Fstatfs(fd, &fsst); err != nil {
		return fd, fmt.Errorf("statfs %s: %w", path, err)
	}
	const keep = unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_NOATIME | unix.ST_NODIRATIME | unix.ST_RELATIME
	flags := uintptr(fsst.Flags)&keep | unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY
	if err := unix.Mount("", fdPath(fd), "", flags, ""); err != nil {
		return fd, fmt.Errorf("remounting %s read-only: %w", path, err)
	}
	return fd, nil
}

// loopbackUp brings lo up: the namespace starts with it down, and the
// relay listens on 127.0.0.1.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

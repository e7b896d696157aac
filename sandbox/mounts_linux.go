package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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
	// Every mount read-only: Landlock governs the contents and names of
	// files, not their metadata (chmod, utimes, extended attributes,
	// chattr), which a read-only mount refuses. The writable roots get
	// writable binds of their own for each command (policyMounts);
	// writes to device files are not refused by a read-only mount. The
	// mounts below are new and writable, Landlock deciding there.
	if err := unix.MountSetattr(unix.AT_FDCWD, "/", unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("making the mounts read-only: %w", err)
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

// policyMount is one of policyMounts' changes: a bind mount it made, or a
// mount it made writable (cleared), by an O_PATH descriptor.
type policyMount struct {
	fd      int
	cleared bool
}

// policyMounts gives each writable root of a workspace-write policy a
// writable bind mount (the rest stays read-only, see prepareMounts),
// makes the policy's read-only paths read-only bind mounts on top
// (Landlock cannot deny a path below one it allows), and returns the
// mounts, as O_PATH descriptors, for resetMounts. Under read-only nothing
// is mounted: every mount is read-only already.
func policyMounts(p Policy) ([]policyMount, error) {
	if p.Mode != WorkspaceWrite {
		return nil, nil
	}
	var mounted []policyMount
	add := func(fd int, cleared bool) {
		if fd >= 0 {
			mounted = append(mounted, policyMount{fd, cleared})
		}
	}
	for _, root := range p.WritableRoots {
		if root == "/" {
			// A bind of / onto itself is not the root that path lookups
			// start from: every mount is made writable instead.
			fds, err := clearReadOnly()
			for _, fd := range fds {
				add(fd, true)
			}
			if err != nil {
				return mounted, err
			}
			continue
		}
		fd, err := bindWritable(root)
		add(fd, false)
		if err != nil {
			return mounted, err
		}
	}
	for _, path := range p.ReadOnlyPaths {
		fd, err := bindReadOnly(path)
		add(fd, false)
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
func resetMounts(mounted []policyMount) error {
	for i := len(mounted) - 1; i >= 0; i-- {
		err := mounted[i].undo()
		unix.Close(mounted[i].fd)
		if err != nil {
			return err
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
	return bindOnto(path, true)
}

// bindWritable bind-mounts a writable root onto itself writable and
// returns an O_PATH descriptor of the new mount, -1 if it made none (the
// root does not exist). A root on a file system the host mounted
// read-only stays read-only: the kernel keeps that locked.
func bindWritable(root string) (int, error) {
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	fd, err := bindOnto(root, false)
	if errors.Is(err, unix.EPERM) {
		return fd, nil // read-only outside, and locked so
	}
	return fd, err
}

// bindOnto bind-mounts path onto itself, read-only or writable, and
// returns an O_PATH descriptor of the new mount (-1 if none was made).
func bindOnto(path string, readOnly bool) (int, error) {
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
	flags := uintptr(fsst.Flags)&keep | unix.MS_REMOUNT | unix.MS_BIND
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", fdPath(fd), "", flags, ""); err != nil {
		return fd, fmt.Errorf("remounting %s: %w", path, err)
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

// undo undoes one of policyMounts' changes: unmounts a bind, or makes a
// mount made writable read-only again.
func (m policyMount) undo() error {
	if m.cleared {
		if err := unix.MountSetattr(m.fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return fmt.Errorf("making a mount read-only again: %w", err)
		}
		return nil
	}
	if err := unix.Unmount(fdPath(m.fd), unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmounting a path of the command's policy: %w", err)
	}
	return nil
}

// clearReadOnly makes every mount of the sandbox writable, for a policy
// whose writable root is /, and returns a descriptor of each one it
// changed. A mount the host mounted read-only stays so (the kernel keeps
// that locked).
func clearReadOnly() ([]int, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		point := unescapeMountPoint(f[4])
		fd, err := unix.Open(point, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // hidden under another mount
		}
		err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY})
		if err != nil {
			unix.Close(fd)
			if errors.Is(err, unix.EPERM) {
				continue
			}
			return fds, fmt.Errorf("making %s writable: %w", point, err)
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

// unescapeMountPoint undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPoint(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

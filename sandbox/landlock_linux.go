package sandbox

import (
	"errors"
	"fmt"
	"io/fs"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// devWritable are the device files every sandboxed command may write.
var devWritable = devWritableFiles

// Landlock access rights, grouped as the rules use them.
const (
	fsRead     = ll.AccessFSExecute | ll.AccessFSReadFile | ll.AccessFSReadDir
	fsFileOnly = ll.AccessFSExecute | ll.AccessFSReadFile | ll.AccessFSWriteFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
	fsWriteAll = ll.AccessFSWriteFile | ll.AccessFSRemoveDir | ll.AccessFSRemoveFile | ll.AccessFSMakeChar |
		ll.AccessFSMakeDir | ll.AccessFSMakeReg | ll.AccessFSMakeSock | ll.AccessFSMakeFifo | ll.AccessFSMakeBlock |
		ll.AccessFSMakeSym | ll.AccessFSRefer | ll.AccessFSTruncate
)

// handledFS is every file system right the kernel's ABI knows (best
// effort: rights of later ABIs are left out on older kernels). ABI 9's
// pathname Unix socket right is handled and granted nowhere: seccomp
// already refuses AF_UNIX sockets, this refuses their use by path too.
func handledFS(abi int) uint64 {
	h := uint64(ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile | ll.AccessFSReadDir |
		ll.AccessFSRemoveDir | ll.AccessFSRemoveFile | ll.AccessFSMakeChar | ll.AccessFSMakeDir |
		ll.AccessFSMakeReg | ll.AccessFSMakeSock | ll.AccessFSMakeFifo | ll.AccessFSMakeBlock | ll.AccessFSMakeSym)
	if abi >= 2 {
		h |= ll.AccessFSRefer
	}
	if abi >= 3 {
		h |= ll.AccessFSTruncate
	}
	if abi >= 5 {
		h |= ll.AccessFSIoctlDev
	}
	if abi >= 9 {
		h |= ll.AccessFSResolveUnix
	}
	return h
}

// restrictFiles applies the policy's write rules to the calling thread
// with Landlock (its children inherit them): reads and execution
// everywhere, writes under the writable roots only (read-only paths below
// them are read-only mounts, see policyMounts), and the usual device files.
func restrictFiles(p Policy) error {
	abi := landlockABI()
	if abi < 1 {
		return errors.New("no Landlock in this kernel")
	}
	handled := handledFS(abi)
	attr := ll.RulesetAttr{HandledAccessFS: handled}
	if abi >= 6 {
		// The command may signal, and reach abstract Unix sockets of,
		// only its own processes: not its stage or the helper, which run
		// as the same user (a stopped stage would hold up the next
		// command on a reused helper; see also reap).
		attr.Scoped = ll.ScopeSignal | ll.ScopeAbstractUnixSocket
	}
	fd, err := ll.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		return fmt.Errorf("creating the ruleset: %w", err)
	}
	defer unix.Close(fd)
	add := func(path string, access uint64) error {
		pfd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // nothing to allow
		}
		if err != nil {
			return fmt.Errorf("opening %s: %w", path, err)
		}
		defer unix.Close(pfd)
		var st unix.Stat_t
		if err := unix.Fstat(pfd, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			access &= fsFileOnly
		}
		attr := ll.PathBeneathAttr{AllowedAccess: access & handled, ParentFd: pfd}
		if err := ll.LandlockAddPathBeneathRule(fd, &attr, 0); err != nil {
			return fmt.Errorf("rule for %s: %w", path, err)
		}
		return nil
	}
	if err := add("/", fsRead); err != nil {
		return err
	}
	for _, d := range devWritable {
		if err := add(d, fsRead|ll.AccessFSWriteFile|ll.AccessFSTruncate|ll.AccessFSIoctlDev); err != nil {
			return err
		}
	}
	if err := add("/dev/pts", fsRead|fsWriteAll|ll.AccessFSIoctlDev); err != nil {
		return err
	}
	if p.Mode == WorkspaceWrite {
		// The helper's own tmpfs (prepareMounts), not the host's.
		if err := add(sandboxShm, fsRead|fsWriteAll); err != nil {
			return err
		}
		for _, r := range p.WritableRoots {
			if err := add(r, fsRead|fsWriteAll); err != nil {
				return err
			}
		}
	}
	if err := ll.LandlockRestrictSelf(fd, 0); err != nil {
		return fmt.Errorf("restricting: %w", err)
	}
	return nil
}

// landlockABI returns the kernel's Landlock ABI version, 0 if none.
func landlockABI() int {
	v, err := ll.LandlockGetABIVersion()
	if err != nil {
		return 0
	}
	return v
}

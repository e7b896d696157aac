package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// selfExe re-executes the running binary. It names the binary of the
// process that execs it, so it keeps working if the file is replaced.
const selfExe = "/proc/self/exe"

// Wrap rewrites cmd (built by exec.Command, not started) to run under p:
// the program becomes this binary's sandbox helper, which runs the
// original program. cmd keeps its Dir, Env, stdio and SysProcAttr fields
// (Setpgid); Wrap adds the namespaces and the parent-death signal. With
// FullAccess it leaves cmd alone. The binary's main must call RunHelper.
func Wrap(cmd *exec.Cmd, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Mode == FullAccess {
		return nil
	}
	req, err := newRequest(cmd)
	if err != nil {
		return err
	}
	req.Policy = p
	cmd.Path = selfExe
	cmd.Args = []string{"app-server", helperArg, req.encode()}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	setHelperAttr(cmd.SysProcAttr, req.UID, req.GID)
	return nil
}

// newRequest checks that cmd (built by exec.Command, not started) can run
// under the helper and returns what the helper needs of it, with no policy.
func newRequest(cmd *exec.Cmd) (*request, error) {
	if cmd.Err != nil {
		return nil, cmd.Err // the program was not found; Start would say so
	}
	if strings.Contains(cmd.Path, "/") {
		// exec would report a missing program at Start; under the helper
		// it would only be an exit status.
		if st, err := os.Stat(cmd.Path); err != nil {
			return nil, &exec.Error{Name: cmd.Path, Err: err}
		} else if st.IsDir() || st.Mode()&0o111 == 0 {
			return nil, &exec.Error{Name: cmd.Path, Err: fs.ErrPermission}
		}
	}
	if !helperWired.Load() {
		return nil, errors.New("sandbox: the binary's main does not call sandbox.RunHelper")
	}
	if cmd.Process != nil {
		return nil, errors.New("sandbox: Wrap after Start")
	}
	return &request{UID: os.Getuid(), GID: os.Getgid(), Path: cmd.Path, Args: cmd.Args}, nil
}

// setHelperAttr adds to attr what makes a process the helper: its
// namespaces, identity and parent-death signal.
func setHelperAttr(attr *syscall.SysProcAttr, uid, gid int) {
	attr.Cloneflags |= syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWIPC
	// The helper is root in its user namespace, which maps to the
	// server's uid and gid, with every capability there: it owns the
	// mount and network namespaces it sets up. The command runs in a
	// nested user namespace that maps the ids back (startStage), so it is
	// the server's user and holds nothing over these namespaces.
	// setgroups stays denied, as an unprivileged user's gid map requires.
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
	attr.GidMappingsEnableSetgroups = false
	// The helper, and with it its pid namespace, dies with the server,
	// even on SIGKILL.
	attr.Pdeathsig = syscall.SIGKILL
}

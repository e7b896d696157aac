package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// loadSeccomp installs the architecture filter and the command's filter
// (seccompfilter.Command, as commandProgram returns it) on the calling
// thread (its children inherit them), with no_new_privs.
func loadSeccomp() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := loadArchFilter(); err != nil {
		return err
	}
	prog, err := commandProgram()
	if err != nil {
		return fmt.Errorf("assembling the command's filter: %w", err)
	}
	if err := loadProgram(prog); err != nil {
		return fmt.Errorf("command filter: %w", err)
	}
	return nil
}

// seccompSupported reports whether the kernel has seccomp filters: strict
// mode takes no flags, so flags 1 fail with EINVAL where the call exists.
func seccompSupported() bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_STRICT, 1, 0)
	return errno == unix.EINVAL
}

// nativeArch is the audit architecture of this build. A syscall made
// through another ABI (i386 int 0x80 on x86-64, with socketcall) would
// not be seen by the command's filter, which matches native numbers only.
var nativeArch = map[string]uint32{
	"amd64":   unix.AUDIT_ARCH_X86_64,
	"arm64":   unix.AUDIT_ARCH_AARCH64,
	"riscv64": unix.AUDIT_ARCH_RISCV64,
}

// loadArchFilter installs a filter that refuses every syscall of a
// foreign architecture with EPERM. Filters stack: the strictest answer
// of all installed filters applies.
func loadArchFilter() error {
	native, ok := nativeArch[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("no seccomp architecture known for %s", runtime.GOARCH)
	}
	const archOffset = 4 // struct seccomp_data: int nr; __u32 arch; ...
	raw, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: archOffset, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: native, SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
	})
	if err != nil {
		return err
	}
	if err := loadProgram(raw); err != nil {
		return fmt.Errorf("architecture filter: %w", err)
	}
	return nil
}

// loadProgram installs one filter on the calling thread (no TSYNC: the
// rest of the helper stays unfiltered).
func loadProgram(raw []bpf.RawInstruction) error {
	if len(raw) == 0 {
		return errors.New("empty seccomp program")
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return errno
	}
	return nil
}

package sandbox

import (
	"fmt"
	"runtime"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// commandFilter is the seccomp policy of a sandboxed command. Denied calls
// fail with EPERM, so a program reports "Operation not permitted" at once
// instead of dying:
//   - socket only for AF_INET and AF_INET6: no Unix sockets by path
//     (the proxy's socket, or any service outside), netlink (the network
//     namespace is not the command's to change), packet or raw sockets;
//   - socketpair only AF_UNIX (pipes between the command's processes);
//   - no io_uring (its operations would bypass this filter), ptrace or
//     process_vm_readv/writev.
func commandFilter() seccomp.Policy {
	return seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{
			{
				Action: seccomp.ActionErrno,
				NamesWithCondtions: []seccomp.NameWithConditions{
					{Name: "socket", Conditions: seccomp.ArgumentConditions{
						{Argument: 0, Operation: seccomp.NotEqual, Value: unix.AF_INET},
						{Argument: 0, Operation: seccomp.NotEqual, Value: unix.AF_INET6},
					}},
					{Name: "socketpair", Conditions: seccomp.ArgumentConditions{
						{Argument: 0, Operation: seccomp.NotEqual, Value: unix.AF_UNIX},
					}},
				},
				Names: []string{
					"io_uring_setup", "io_uring_enter", "io_uring_register",
					"ptrace", "process_vm_readv", "process_vm_writev",
				},
			},
		},
	}
}

// loadSeccomp installs the architecture filter and commandFilter on the
// calling thread (its children inherit them), with no_new_privs.
func loadSeccomp() error {
	if err := loadArchFilter(); err != nil {
		return err
	}
	return seccomp.LoadFilter(seccomp.Filter{
		NoNewPrivs: true,
		Policy:     commandFilter(),
	})
}

// nativeArch is the audit architecture of this build. A syscall made
// through another ABI (i386 int 0x80 on x86-64, with socketcall) would
// not be seen by commandFilter, which matches native numbers only.
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
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return fmt.Errorf("architecture filter: %w", errno)
	}
	return nil
}

// Package seccompfilter defines the seccomp policy of a sandboxed command
// with github.com/elastic/go-seccomp-bpf and assembles it for the
// architecture it is built for.
//
// It is its own package so that package sandbox does not have to link
// go-seccomp-bpf where it can do without: the library's arch package
// builds the syscall tables of every architecture when a process starts
// (about 165 KB and 0.2 ms), which the sandbox helper, started for every
// command, would pay each time. On amd64 package sandbox loads a program
// assembled from this one ahead of time (zz_seccomp_program_amd64.go,
// checked against this package by its tests); elsewhere it assembles this
// policy at run time.
package seccompfilter

import (
	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
)

// Numbers from <linux/socket.h>, the same on every architecture; spelled
// out because golang.org/x/sys/unix has none outside Linux builds.
const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10
	// sockDgram is SOCK_DGRAM's bit: set in SOCK_DGRAM (2) and SOCK_RAW
	// (3, which AF_UNIX makes a datagram socket), clear in SOCK_STREAM
	// (1) and SOCK_SEQPACKET (5) and in the SOCK_NONBLOCK and
	// SOCK_CLOEXEC flags.
	sockDgram = 2
)

// Command is the seccomp policy of a sandboxed command. Denied calls fail
// with EPERM, so a program reports "Operation not permitted" at once
// instead of dying:
//   - socket only for AF_INET and AF_INET6: no Unix sockets by path
//     (the proxy's socket, or any service outside), netlink (the network
//     namespace is not the command's to change), packet or raw sockets;
//   - socketpair only AF_UNIX, stream or seqpacket (pipes between the
//     command's processes): a datagram socket of a pair can still
//     connect or sendto any datagram socket by path, across network
//     namespaces (syslog's /dev/log, journald's socket, any service
//     outside), and Landlock before ABI 9 does not stop that; a stream
//     or seqpacket one is connected for good;
//   - no io_uring (its operations would bypass this filter), ptrace or
//     process_vm_readv/writev;
//   - prlimit64 on the calling process only (pid 0): the command is the
//     same user as its stage and helper, and the stage's limits would
//     pass to the next command a reused helper runs;
//   - no kernel keyrings (add_key, request_key, keyctl): they are not
//     the sandbox's own (the user keyring is shared by every command of
//     a helper, the session keyring is the server's).
func Command() seccomp.Policy {
	return seccomp.Policy{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{
			{
				Action: seccomp.ActionErrno,
				NamesWithCondtions: []seccomp.NameWithConditions{
					{Name: "socket", Conditions: seccomp.ArgumentConditions{
						{Argument: 0, Operation: seccomp.NotEqual, Value: afInet},
						{Argument: 0, Operation: seccomp.NotEqual, Value: afInet6},
					}},
					{Name: "socketpair", Conditions: seccomp.ArgumentConditions{
						{Argument: 0, Operation: seccomp.NotEqual, Value: afUnix},
					}},
					// A second condition set for the same call: OR'd.
					{Name: "socketpair", Conditions: seccomp.ArgumentConditions{
						{Argument: 1, Operation: seccomp.BitsSet, Value: sockDgram},
					}},
					{Name: "prlimit64", Conditions: seccomp.ArgumentConditions{
						{Argument: 0, Operation: seccomp.NotEqual, Value: 0},
					}},
				},
				Names: []string{
					"io_uring_setup", "io_uring_enter", "io_uring_register",
					"ptrace", "process_vm_readv", "process_vm_writev",
					"add_key", "request_key", "keyctl",
				},
			},
		},
	}
}

// Assemble returns Command as a BPF program for the architecture of this
// build (go-seccomp-bpf's program also refuses other architectures and,
// on amd64, the x32 ABI).
func Assemble() ([]bpf.RawInstruction, error) {
	p := Command()
	insts, err := p.Assemble()
	if err != nil {
		return nil, err
	}
	return bpf.Assemble(insts)
}

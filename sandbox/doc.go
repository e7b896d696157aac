// Package sandbox holds a command to its sandbox policy with the operating
// system (../shared/spec/SANDBOX.md): where it may write and what network
// it may reach.
//
// On Linux a sandboxed command runs under a helper that the server starts
// by re-executing its own binary (Wrap rewrites an *exec.Cmd; the binary's
// main calls RunHelper first thing). The helper is created in new user,
// network, pid and mount namespaces, with SIGKILL as its parent-death
// signal, and is PID 1 of the command's pid namespace, so every process of
// the command dies with it. Inside, it mounts a fresh /proc, bind-mounts
// read-only the paths Landlock cannot protect under a writable root (.git,
// the server's home), brings lo up and, when the policy routes the network
// through the managed proxy, listens on 127.0.0.1 and relays each
// connection to the proxy's Unix socket outside; the proxy variables are
// rewritten to those inside ports. The helper runs as the server's uid
// (mapped to itself) with three ambient capabilities (SYS_ADMIN,
// NET_ADMIN, SETPCAP) and starts the command from an OS thread that first
// drops every capability for good (empty bounding set, SECBIT_NOROOT
// locked), sets no_new_privs and applies Landlock write rules and a
// seccomp filter (socket only for AF_INET and AF_INET6, socketpair only
// AF_UNIX, no io_uring, ptrace or process_vm_*, no foreign syscall ABI):
// the command inherits all of it at fork, with no second exec of this
// binary in between.
//
// Probe checks once what this machine can enforce; Support.Missing names
// what a policy needs and the machine lacks, so callers fail closed.
//
// On macOS Wrap runs the command under /usr/bin/sandbox-exec with a
// generated Seatbelt profile (SeatbeltProfile). Elsewhere nothing can be
// enforced and Probe says so.
//
// Spares keeps one helper started ahead of need (spare_linux.go): a
// command whose spare is ready is handed to it over a socket pair (its
// stdout and stderr by SCM_RIGHTS, then the request with argv, directory
// and environment), and the helper goes on as a cold one; the next spare
// starts in the background, and a command that finds none ready gets a
// helper of its own.
//
// A cold helper is started for its command, so what the binary does
// before main is paid per command: the seccomp policy is defined with
// go-seccomp-bpf in internal/seccompfilter and, on amd64, loaded as a
// program assembled ahead of time (zz_seccomp_program_amd64.go, checked
// by TestSeccompProgramIsCommandPolicy), which keeps the library and the
// syscall tables its initialization builds out of the binary.
//
// The package is a leaf: it imports the standard library, golang.org/x/sys,
// go-landlock and its own internal/seccompfilter (go-seccomp-bpf), none of
// app-server's other packages.
package sandbox

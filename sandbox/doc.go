// Package sandbox holds a command to its sandbox policy with the operating
// system (../shared/spec/SANDBOX.md): where it may write and what network
// it may reach.
//
// On Linux a sandboxed command runs under a helper that the server starts
// by re-executing its own binary (Wrap rewrites an *exec.Cmd; the binary's
// main calls RunHelper first thing). The helper is created in new user,
// network, pid, mount and IPC namespaces, root in its user namespace
// (which maps to the server's uid), with SIGKILL as its parent-death
// signal, and is PID 1 of the sandbox's pid namespace, so every process
// in it dies with it. It makes every mount read-only (each command's
// writable roots get writable binds of their own: Landlock does not
// cover metadata), mounts a fresh /proc, a devpts instance of its
// own and a private /dev/shm,
// brings lo up, bind-mounts read-only the paths Landlock cannot protect
// under a writable root (.git, the server's home) and, when the policy
// routes the network through the managed proxy, listens on 127.0.0.1 and
// relays each connection to the proxy's Unix socket outside; the proxy
// variables are rewritten to those inside ports.
//
// The command itself runs one level down (stage_linux.go): the helper
// starts a command stage (the binary again) in a nested user namespace
// that maps the server's uid and gid back, and the stage forks the
// command from an OS thread that holds no capability (empty bounding
// set, SECBIT_NOROOT locked; it keeps CAP_SYS_ADMIN over the stage's own
// namespace only to give the command an IPC namespace, and the exec
// leaves the command none), with no_new_privs, Landlock write rules and
// a seccomp filter (socket only for AF_INET and AF_INET6, socketpair only
// AF_UNIX stream or seqpacket, no io_uring, ptrace, process_vm_*, keyrings or prlimit on
// another process, no foreign syscall ABI); the command inherits all of
// it at fork. Landlock also keeps its signals to its own processes (ABI
// 6), the stage's session has no controlling terminal, and the command
// gets no descriptor but 0, 1 and 2. The namespaces the helper set
// up belong to the helper's user namespace, which the command is not in,
// so even a capability it regained in a namespace of its own would give
// it nothing over its mounts or network.
//
// Probe checks once what this machine can enforce; Support.Missing names
// what a policy needs and the machine lacks, so callers fail closed.
//
// On macOS Wrap runs the command under /usr/bin/sandbox-exec with a
// generated Seatbelt profile (SeatbeltProfile). Elsewhere nothing can be
// enforced and Probe says so.
//
// Spares keeps a helper started ahead of need (spare_linux.go), its
// stage ready: a command is handed to it over a socket pair (stdout and
// stderr by SCM_RIGHTS, then the length-framed request with argv,
// directory and environment). The stage reports the command's exit status
// on that socket as soon as it is known, then kills and reaps what the
// command left in the sandbox; the helper undoes the command's mounts and
// empties /dev/shm, and the same helper takes the next command. The
// server starts a spare when a sandboxed thread opens; a command that
// finds the spare still starting or cleaning up waits for it, and one
// that runs while another does gets a new one.
//
// A cold helper (Wrap: `app-server sandbox`, the probe, a command the
// spare cannot take) starts its stage for its command, so what the binary
// does before main is paid twice per command: the seccomp policy is defined with
// go-seccomp-bpf in internal/seccompfilter and, on amd64, loaded as a
// program assembled ahead of time (zz_seccomp_program_amd64.go, checked
// by TestSeccompProgramIsCommandPolicy), which keeps the library and the
// syscall tables its initialization builds out of the binary.
//
// The package is a leaf: it imports the standard library, golang.org/x/sys,
// go-landlock and its own internal/seccompfilter (go-seccomp-bpf), none of
// app-server's other packages.
package sandbox

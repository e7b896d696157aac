// Package session keeps threads of turns, runs the commands a turn asks
// for, applies the command approval policy and persists every thread.
//
// Building blocks that the thread and turn machinery composes:
//
//   - RunCommand runs one command in its own process group, streams its
//     merged stdout and stderr in bounded, UTF-8-safe batches, keeps a
//     bounded tail of it, and kills the whole group on cancellation.
//   - ParseCommandActions reads a command line for display (read, list
//     files, search); IsKnownReadOnly and SplitArgv back the command policy.
//   - Store persists each thread as an append-only JSONL rollout under
//     <home>/threads (or <home>/archived) and rebuilds threads from it.
//
// The package imports only the standard library, app-server/protocol,
// app-server/netapproval and github.com/google/uuid.
package session

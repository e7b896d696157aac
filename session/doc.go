// Package session keeps threads of turns, runs the commands a turn asks
// for, applies the command approval policy, puts network destinations to
// the client, and persists every thread.
//
// # Model
//
// A Manager owns the loaded threads of one connection and serves the
// thread, turn, command/exec and network/grants methods; package rpc routes
// requests to it and implements Client, through which the Manager sends
// notifications and approval requests. No Manager method waits on the
// client: a turn runs in a goroutine the Manager owns, and StartThread and
// StartTurn return a function that rpc calls right after writing the
// response, so no notification can overtake it.
//
// A turn is driven by an Agent (the built-in shell agent runs each text
// input as one command line) through Actions. RunCommand, the one command
// path, is: item/started; the command policy (persisted forbidden rules
// decline, allow rules and known read-only commands run, untrusted prompts);
// the server's environment as [shell_environment_policy] filters it
// (EnvPolicy.Apply, command/exec's path too); a network Attachment whose
// proxy variables go into that environment; the command in its own process group with its output
// streamed; the proxy's refusals appended to the output; item/completed.
// Network approvals arrive from netapproval through the thread's
// PromptNetwork (each thread is a netapproval.Prompter), which builds the
// prompt's wire form and maps the client's decision back once
// (networkAnswer); a cancel settles the prompt, then interrupts the turn.
// Wire tags and netapproval's enums meet in netwire.go's checked tables.
// Command prefix rules are session's (CommandRules), in the rules file
// netapproval also writes (one lock, each keeping the other's section).
// Every approval request (command, network, file change) goes through
// thread.ask (approval.go): it is followed by serverRequest/resolved,
// however it ends, and keeps the thread's waitingOnApproval flag while
// open.
//
// Which agent runs a thread's turns (models.go): the model agent when a
// model is configured (config key model) or the thread or turn asks for one
// (thread/start model and modelProvider, turn/start model), the shell agent
// otherwise or when the model asked for is "shell". The model agent
// (modelagent.go, MODEL.md) sends the thread's whole conversation to the
// provider with package model, streams the model's text and reasoning as
// agentMessage and reasoning items, runs each exec_command call through
// RunCommand's path (the item has an id of ours, like every item; the
// provider's call id stays in the conversation) and each apply_patch call
// as a fileChange item (filechange.go: parsed and resolved with package
// patch, asked about when the policy or the writable roots say so, applied
// atomically per file), sends the outputs back, and asks again until the
// model answers without a tool call. The conversation is persisted with
// the thread (rollout modelInput records), so a resumed thread goes on
// with everything the model saw.
//
// Building blocks:
//
//   - RunProcess runs one process in its own process group, streams its
//     merged stdout and stderr in bounded, UTF-8-safe batches, keeps a
//     bounded tail of it, and kills the whole group on cancellation.
//   - Package shellcmd reads a command line: for display (read, list
//     files, search), and for the command policy (known read-only
//     commands, the argv of a plain command, the simple commands of a
//     list).
//   - Package rollout persists each thread as an append-only JSONL file
//     under <home>/threads (or <home>/archived) and rebuilds threads from
//     it; items and turn ends are fsynced.
package session

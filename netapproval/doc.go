// Package netapproval is the managed network approval layer: commands that
// a turn runs reach the network only through a loopback proxy that this
// package owns, and every destination that no rule allows is put to the
// user once, keyed by (host, protocol, port), as the spec NETWORK.md describes.
//
// # Model
//
//   - Policy: host normalization (NormalizeHost), allow and deny lists with
//     wildcards, local/private address protection (IsNonPublic, resolving
//     names with a 2 s bound and failing closed, and checking the address
//     again at dial time against DNS rebinding), limited mode, and the
//     persisted network rules of <home>/rules.toml (Rules; the file's
//     sections and its one lock are described in rulesfile.go).
//   - Approval service, one per thread (Thread): pending prompts deduped by
//     Key (the first request owns the prompt, concurrent requests for the
//     key wait on it), the thread's session allow and deny caches, prompt
//     timeouts and grants (Grants, Revoke).
//   - Proxy listeners on 127.0.0.1 ephemeral ports: an HTTP forward proxy
//     with CONNECT, and SOCKS5 with CONNECT and UDP ASSOCIATE. The front
//     ends only speak their wire: each asks Attachment.decide (decide.go),
//     the one path that evaluates, waits for a prompt and accounts.
//   - Attribution: each command execution gets its own credential
//     (Attachment). A request without a valid credential gets 407 (SOCKS5:
//     authentication failure), and every request is tied to one thread,
//     turn and command.
//
// The package imports neither session, rpc nor protocol. It talks upward
// through Prompter (asks the user) and Notifier (grant changes, warnings),
// which the server implements.
//
// # Use
//
//	rules, err := netapproval.OpenRules(filepath.Join(home, "rules.toml"))
//	m, err := netapproval.NewManager(netapproval.Options{Config: cfg, Rules: rules, Logger: log, Notifier: n})
//	err = m.Start()                      // binds the listeners
//	defer m.Close()                      // stops everything it started
//
//	t, err := m.OpenThread(threadID, prompter) // per thread; t.Close() when the thread unloads
//	a, err := m.Attach(netapproval.ExecInfo{ThreadID: threadID, TurnID: turnID,
//		CommandID: itemID, Command: cmdline, PromptsAllowed: policy != "never"})
//	cmd.Env = append(cmd.Env, a.Env()...) // HTTP_PROXY, ALL_PROXY, NO_PROXY="" ...
//	... run the command ...
//	blocks := a.Blocks()                 // why requests were refused, for the item
//	a.Close()                            // revokes the credential
//
//	t.Interrupt()                        // turn interrupted: pending prompts deny
//	m.InterruptAll()                     // client disconnected: every thread's prompts deny
//	t.Grants(); t.Revoke(filter)         // network/grants/list and /revoke
//
// The Prompter is called on a goroutine owned by the thread and must return
// promptly with ctx.Err() once its context ends (timeout, Interrupt, Close).
// An AnswerCancel denies the request like a decline; the caller that sees
// the answer (the session) interrupts the turn. The Notifier hears about
// grant changes (network/grants/updated) and warnings (a refused
// amendment); its methods must not block.
//
// Values are typed enums with one spelling table each (enum.go): Protocol,
// Reason, Source and ErrorTag spell the proxy's own wire (the 403 body and
// the x-proxy-error header, derived by TagFor); Action the rules file.
// The JSON-RPC wire tags are package protocol's; session maps them to these
// values through one checked table, at its edge.
//
// Deliberately not here: the wire types (package protocol), the approval
// request's wire form (item id, reason text: package session implements
// Prompter), command rules (session), and OS-level enforcement. Without a network namespace a program may ignore the proxy
// variables; the design keeps room for an enforced mode where the proxy is
// the only reachable address.
package netapproval

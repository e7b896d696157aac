// An app-server client written the way a VS Code extension would write it:
// vscode-jsonrpc over the server's stdio (with JSONL framing, see jsonl.ts)
// and the protocol types from `app-server generate-ts` (src/protocol, written
// at build time, never edited by hand).
//
// It runs one network-approval flow end to end and checks that it ends the
// way the chosen decision says it should:
//
//   node dist/main.js --url http://127.0.0.1:PORT/ --decision accept
//
// With --ws URL [--token-file F] it connects to a server already listening
// on WebSocket (app-server app-server --listen ws://IP:PORT) instead of
// spawning one over stdio; the server's config must allow local binding.
//
// Every message received from the server is printed to stdout as one JSON
// line; diagnostics and the verdict go to stderr. Exit 0: the flow ended as
// expected; 1: it did not; 2: bad usage.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createMessageConnection, Message, type MessageConnection } from "vscode-jsonrpc/node";

import { JsonlMessageReader, JsonlMessageWriter } from "./jsonl";
import { connect, WebSocketMessageReader, WebSocketMessageWriter } from "./ws";
import type {
  ClientRequest,
  CommandExecutionApprovalDecision,
  CommandExecutionRequestApprovalParams,
  CommandExecutionRequestApprovalResponse,
  InitializeResponse,
  RequestId,
  ServerNotification,
  ServerRequest,
  ThreadItem,
  ThreadStartResponse,
  Turn,
  TurnStartResponse,
} from "./protocol";

/** The decisions without payload; the flag picks one. */
type Decision = Extract<CommandExecutionApprovalDecision, string>;
const decisions: readonly Decision[] = ["accept", "acceptForSession", "decline", "cancel"];

type CommandItem = Extract<ThreadItem, { type: "commandExecution" }>;
type ApprovalRequest = Extract<ServerRequest, { method: "item/commandExecution/requestApproval" }>;

interface Options {
  server: string;
  url: URL;
  decision: Decision;
  timeoutMs: number;
  /** A WebSocket server to connect to instead of spawning one. */
  ws?: string;
  token?: string;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: "string", default: join(__dirname, "..", "..", "..", "bin", "app-server") },
      url: { type: "string" },
      decision: { type: "string", default: "accept" },
      timeout: { type: "string", default: "30" },
      ws: { type: "string" },
      "token-file": { type: "string" },
    },
    strict: true,
  });
  if (values.url === undefined) {
    throw new UsageError("--url is required");
  }
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url: not a URL: ${values.url}`);
  }
  const decision = decisions.find((d) => d === values.decision);
  if (decision === undefined) {
    throw new UsageError(`--decision must be one of ${decisions.join(", ")}`);
  }
  const seconds = Number(values.timeout);
  if (!(seconds > 0)) {
    throw new UsageError(`--timeout: not a positive number of seconds: ${values.timeout}`);
  }
  if (values["token-file"] !== undefined && values.ws === undefined) {
    throw new UsageError("--token-file needs --ws");
  }
  const token = values["token-file"] === undefined ? undefined : readFileSync(values["token-file"], "utf8").trim();
  return { server: values.server, url, decision, timeoutMs: seconds * 1000, ws: values.ws, token };
}

// --- typed requests ------------------------------------------------------

/** The params a client request takes, from the generated ClientRequest union. */
type Params<M extends ClientRequest["method"]> = Extract<ClientRequest, { method: M }>["params"];

/** Results of the requests this client sends (generate-ts has no method-to-result map). */
interface Results {
  initialize: InitializeResponse;
  "thread/start": ThreadStartResponse;
  "turn/start": TurnStartResponse;
}

function request<M extends keyof Results & ClientRequest["method"]>(
  conn: MessageConnection,
  method: M,
  params: Params<M>,
): Promise<Results[M]> {
  return conn.sendRequest(method, params);
}

// --- what the server said ------------------------------------------------

/** Everything seen for one turn, and a promise of its turn/completed. */
class TurnLog {
  readonly approvals: ApprovalRequest[] = [];
  readonly commands: CommandItem[] = [];
  completed: Turn | undefined;
  readonly done: Promise<Turn>;
  private resolve!: (t: Turn) => void;

  constructor() {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  complete(t: Turn): void {
    this.completed = t;
    this.resolve(t);
  }
}

class Recorder {
  private readonly turns = new Map<string, TurnLog>();
  readonly approvals: ApprovalRequest[] = [];
  readonly resolved: RequestId[] = [];

  /** Notifications can come before the turn/start response is handled, so turns are made on first sight. */
  turn(id: string): TurnLog {
    let t = this.turns.get(id);
    if (t === undefined) {
      t = new TurnLog();
      this.turns.set(id, t);
    }
    return t;
  }

  /**
   * Sees every incoming message before vscode-jsonrpc dispatches it. This is
   * where the request id of an approval is known: a request handler gets only
   * the params, but serverRequest/resolved names the request by its id.
   */
  observe(msg: Message): void {
    if (Message.isRequest(msg) && msg.method === "item/commandExecution/requestApproval") {
      const req = msg as unknown as ApprovalRequest;
      this.approvals.push(req);
      this.turn(req.params.turnId).approvals.push(req);
    }
  }

  notification(n: ServerNotification): void {
    switch (n.method) {
      case "item/completed":
        if (n.params.item.type === "commandExecution") {
          this.turn(n.params.turnId).commands.push(n.params.item);
        }
        break;
      case "serverRequest/resolved":
        // An extension would dismiss the prompt showing this request here.
        this.resolved.push(n.params.requestId);
        break;
      case "turn/completed":
        this.turn(n.params.turn.id).complete(n.params.turn);
        break;
      default:
        break; // the rest is only printed
    }
  }
}

// --- the flow ------------------------------------------------------------

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`ts-client: ${err instanceof Error ? err.message : String(err)}`);
    console.error("usage: main.js --url URL [--decision accept|acceptForSession|decline|cancel] [--server PATH | --ws URL [--token-file F]] [--timeout SECONDS]");
    return 2;
  }
  // A throwaway home: no rules or grants from earlier runs can answer for us.
  const home = mkdtempSync(join(tmpdir(), "ts-client-home-"));
  const cwd = mkdtempSync(join(tmpdir(), "ts-client-cwd-"));
  try {
    // The target is on 127.0.0.1, which the proxy refuses without prompting
    // unless local binding is allowed.
    writeFileSync(join(home, "config.toml"), "[network]\nallow_local_binding = true\n");
    const failures = await run(opts, home, cwd);
    for (const f of failures) {
      console.error(`ts-client: FAIL (${opts.decision}): ${f}`);
    }
    if (failures.length > 0) {
      return 1;
    }
    console.error(`ts-client: ok (${opts.decision})`);
    return 0;
  } catch (err) {
    console.error(`ts-client: FAIL (${opts.decision}): ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Runs the flow and returns what did not go as the decision says it should. */
async function run(opts: Options, home: string, cwd: string): Promise<string[]> {
  const rec = new Recorder();
  const print = (text: string, msg: Message): void => {
    console.log(text);
    rec.observe(msg);
  };
  const t = opts.ws === undefined ? spawnServer(opts.server, home, print) : await dialServer(opts.ws, opts.token, print);
  const conn = t.conn;

  conn.onRequest(
    "item/commandExecution/requestApproval",
    (params: CommandExecutionRequestApprovalParams): CommandExecutionRequestApprovalResponse => {
      // An extension would show a prompt built from params.reason and
      // params.availableDecisions; here the flag is the user's answer.
      if (params.networkApprovalContext == null) {
        console.error(`ts-client: unexpected command approval (${params.command ?? "?"}); declining`);
        return { decision: "decline" };
      }
      return { decision: opts.decision };
    },
  );
  // One handler for all notifications; the generated union narrows params by method.
  conn.onNotification((method: string, params: unknown) => {
    rec.notification({ method, params } as ServerNotification);
  });
  conn.listen();

  const failures: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) failures.push(what);
  };

  const flow = async (): Promise<void> => {
    await request(conn, "initialize", { clientInfo: { name: "ts-client", title: "app-server TypeScript example", version: "0.0.0" } });
    await conn.sendNotification("initialized");
    const { thread } = await request(conn, "thread/start", { cwd, approvalPolicy: "on-request" });

    const command = `curl -s -o /dev/null -w '%{http_code}\\n' ${shellQuote(opts.url.href)}`;
    const runTurn = async (): Promise<TurnLog> => {
      const { turn } = await request(conn, "turn/start", { threadId: thread.id, input: [{ type: "text", text: command }] });
      const log = rec.turn(turn.id);
      await log.done;
      return log;
    };

    const first = await runTurn();
    checkTurn(check, "turn 1", first, opts);
    if (opts.decision === "acceptForSession") {
      // The session grant must answer the same request without a prompt.
      const second = await runTurn();
      check(second.approvals.length === 0, `turn 2: ${second.approvals.length} approval requests after acceptForSession, want none`);
      checkOutcome(check, "turn 2", second, "200", "completed");
    }
  };

  try {
    await withTimeout(Promise.race([flow(), t.closed.then(() => Promise.reject(new Error("server connection ended early")))]), opts.timeoutMs, "the flow");
  } catch (err) {
    t.kill();
    throw err;
  }

  // Closing stdin (or the socket) is the end of this client. Waiting for
  // the server to exit (or close) also drains what it still sends, so a
  // late or duplicate serverRequest/resolved would be counted.
  conn.end();
  let code: number | null;
  try {
    code = await withTimeout(t.closed, 5000, "the server to end the connection");
  } catch (err) {
    t.kill();
    throw err;
  }
  conn.dispose();
  check(code === 0, `server exit code ${String(code)}, want 0`);

  // Every prompt is settled by exactly one serverRequest/resolved naming its id.
  for (const a of rec.approvals) {
    const n = rec.resolved.filter((id) => id === a.id).length;
    check(n === 1, `${n} serverRequest/resolved for request ${String(a.id)}, want 1`);
  }
  const unknown = rec.resolved.filter((id) => !rec.approvals.some((a) => a.id === id));
  check(unknown.length === 0, `serverRequest/resolved for ids never requested: ${JSON.stringify(unknown)}`);
  return failures;
}

/** A connection to a server and how it ends: the exit code of a spawned server, 0 for a closed socket. */
interface ServerLink {
  conn: MessageConnection;
  closed: Promise<number | null>;
  kill(): void;
}

function spawnServer(server: string, home: string, print: (text: string, msg: Message) => void): ServerLink {
  // stderr is the server's log: pass it through, stdout is protocol only.
  const child = spawn(server, ["--home", home], { stdio: ["pipe", "pipe", "inherit"] });
  const closed = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject); // e.g. ENOENT: no binary at --server
    child.once("close", (code) => resolve(code)); // after stdout has ended
  });
  closed.catch(() => {}); // observed by the caller; keeps an early spawn error from being unhandled
  const reader = new JsonlMessageReader(child.stdout, print);
  reader.onError((err) => console.error(`ts-client: ${err.message}`));
  const conn = createMessageConnection(reader, new JsonlMessageWriter(child.stdin));
  return { conn, closed, kill: () => child.kill("SIGKILL") };
}

async function dialServer(url: string, token: string | undefined, print: (text: string, msg: Message) => void): Promise<ServerLink> {
  const socket = await connect(url, token);
  const closed = new Promise<number | null>((resolve) => socket.once("close", () => resolve(0)));
  const reader = new WebSocketMessageReader(socket, print);
  reader.onError((err) => console.error(`ts-client: ${err.message}`));
  const conn = createMessageConnection(reader, new WebSocketMessageWriter(socket));
  return { conn, closed, kill: () => socket.terminate() };
}

type Check = (ok: boolean, what: string) => void;

/** The first turn: one network prompt for the URL's host, protocol and port, then the decision's outcome. */
function checkTurn(check: Check, name: string, log: TurnLog, opts: Options): void {
  check(log.approvals.length === 1, `${name}: ${log.approvals.length} approval requests, want 1`);
  const ctx = log.approvals[0]?.params.networkApprovalContext;
  if (ctx != null) {
    const https = opts.url.protocol === "https:";
    const host = opts.url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = opts.url.port === "" ? (https ? 443 : 80) : Number(opts.url.port);
    check(
      ctx.host === host && ctx.protocol === (https ? "https" : "http") && ctx.port === port,
      `${name}: networkApprovalContext ${JSON.stringify(ctx)}, want ${host} ${https ? "https" : "http"} ${port}`,
    );
  } else {
    check(false, `${name}: no networkApprovalContext`);
  }
  switch (opts.decision) {
    case "accept":
    case "acceptForSession":
      checkOutcome(check, name, log, "200", "completed");
      break;
    case "decline":
      // The proxy answers 403 and the command goes on; so does the turn.
      checkOutcome(check, name, log, "403", "completed");
      break;
    case "cancel":
      check(log.completed?.status === "interrupted", `${name}: turn ${log.completed?.status}, want interrupted`);
      break;
  }
}

function checkOutcome(check: Check, name: string, log: TurnLog, httpCode: string, turnStatus: Turn["status"]): void {
  const cmd = log.commands[0];
  check(log.commands.length === 1, `${name}: ${log.commands.length} completed command items, want 1`);
  // The first line is curl's; the server may append a line saying why a request was blocked.
  const printed = cmd?.aggregatedOutput?.split("\n")[0];
  check(printed === httpCode, `${name}: curl printed ${JSON.stringify(cmd?.aggregatedOutput)}, want ${httpCode}`);
  // curl exits 0 even on a 403, so the item completes either way.
  check(cmd?.status === "completed", `${name}: command item ${cmd?.status}, want completed`);
  check(log.completed?.status === turnStatus, `${name}: turn ${log.completed?.status}, want ${turnStatus}`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);

// Newline-delimited JSON framing for vscode-jsonrpc.
//
// vscode-jsonrpc's stream reader and writer speak LSP's Content-Length
// framing. app-server speaks JSONL instead: one JSON-RPC message per line, and
// the messages it writes omit the "jsonrpc" member. The reader and writer here
// are all an extension needs to plug app-server into createMessageConnection
// (parseMessage and TextMessageWriter also serve the WebSocket ones, ws.ts).

import type { Readable, Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  Disposable,
  type DataCallback,
  type Message,
  type MessageReader,
  type MessageWriter,
} from "vscode-jsonrpc/node";

export class JsonlMessageReader extends AbstractMessageReader implements MessageReader {
  // A StringDecoder keeps a multi-byte UTF-8 character that is split across
  // two chunks intact; `partial` keeps a line split across chunks.
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  /**
   * @param onLine sees every line exactly as received, before dispatch (the
   *   example prints it; an extension could log it to an output channel).
   */
  constructor(
    private readonly input: Readable,
    private readonly onLine?: (line: string, message: Message) => void,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const onData = (chunk: Buffer): void => {
      const lines = (this.partial + this.decoder.write(chunk)).split("\n");
      this.partial = lines.pop() ?? ""; // the last piece has no newline yet
      for (const line of lines) {
        this.dispatch(line, callback);
      }
    };
    const onEnd = (): void => {
      // A final line without a newline is still a message.
      this.dispatch(this.partial + this.decoder.end(), callback);
      this.partial = "";
      this.fireClose();
    };
    const onError = (err: Error): void => this.fireError(err);
    this.input.on("data", onData);
    this.input.on("end", onEnd);
    this.input.on("error", onError);
    return Disposable.create(() => {
      this.input.off("data", onData);
      this.input.off("end", onEnd);
      this.input.off("error", onError);
    });
  }

  private dispatch(raw: string, callback: DataCallback): void {
    const line = raw.trim(); // tolerate \r\n and blank lines
    if (line === "") {
      return;
    }
    const message = parseMessage(line);
    if (message instanceof Error) {
      // Report and keep reading: one bad line must not take the connection
      // down (the server treats our bad lines the same way).
      this.fireError(message);
      return;
    }
    this.onLine?.(line, message);
    callback(message);
  }
}

/**
 * Parses one message as the server writes it, or says why it is not one.
 * app-server leaves out "jsonrpc" (as Codex does); vscode-jsonrpc does not
 * require it, but Message says it is there, so it is put back.
 */
export function parseMessage(text: string): Message | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return new Error(`not JSON: ${text.slice(0, 200)}: ${String(err)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return new Error(`not a JSON-RPC message: ${text.slice(0, 200)}`);
  }
  return { jsonrpc: "2.0", ...parsed } as Message;
}

/**
 * A writer that sends each message as one piece of text through send, and
 * reports failures the way vscode-jsonrpc expects (with a running count).
 */
export abstract class TextMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private errorCount = 0;

  protected abstract send(text: string, done: (err?: Error | null) => void): void;

  write(msg: Message): Promise<void> {
    // The server accepts "jsonrpc" on input, so it is sent as is.
    return new Promise((resolve, reject) => {
      this.send(JSON.stringify(msg), (err) => {
        if (err) {
          this.errorCount++;
          this.fireError(err, msg, this.errorCount);
          reject(err);
        } else {
          this.errorCount = 0;
          resolve();
        }
      });
    });
  }

  end(): void {}
}

export class JsonlMessageWriter extends TextMessageWriter {
  constructor(private readonly output: Writable) {
    super();
    output.on("close", () => this.fireClose());
  }

  protected send(text: string, done: (err?: Error | null) => void): void {
    // JSON.stringify never emits a raw newline, so one message is one line.
    this.output.write(text + "\n", "utf8", done);
  }

  override end(): void {
    this.output.end();
  }
}

// WebSocket framing for vscode-jsonrpc: one JSON-RPC message per text frame.
//
// With `app-server app-server --listen ws://IP:PORT` the server takes
// clients over WebSocket instead of stdio; a remote IDE connects with the
// token the server was started with (Authorization: Bearer). As on stdio,
// the server leaves out "jsonrpc" and accepts it on input.

import WebSocket from "ws";
import { AbstractMessageReader, Disposable, type DataCallback, type Message, type MessageReader } from "vscode-jsonrpc/node";

import { parseMessage, TextMessageWriter } from "./jsonl";

/** Opens a WebSocket to url, with a bearer token when one is given. */
export function connect(url: string, token: string | undefined): Promise<WebSocket> {
  const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  const socket = new WebSocket(url, { headers, maxPayload: 64 << 20 });
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => reject(new Error(`${url}: HTTP ${res.statusCode ?? "?"}: ${body.trim()}`)));
    });
    socket.once("error", reject);
  });
}

export class WebSocketMessageReader extends AbstractMessageReader implements MessageReader {
  /** @param onText sees every frame as received, before dispatch. */
  constructor(
    private readonly socket: WebSocket,
    private readonly onText?: (text: string, message: Message) => void,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
      const text = data.toString();
      const message = isBinary ? new Error("binary frame from the server") : parseMessage(text);
      if (message instanceof Error) {
        this.fireError(message);
        return;
      }
      this.onText?.(text, message);
      callback(message);
    };
    const onClose = (): void => this.fireClose();
    const onError = (err: Error): void => this.fireError(err);
    this.socket.on("message", onMessage);
    this.socket.on("close", onClose);
    this.socket.on("error", onError);
    return Disposable.create(() => {
      this.socket.off("message", onMessage);
      this.socket.off("close", onClose);
      this.socket.off("error", onError);
    });
  }
}

export class WebSocketMessageWriter extends TextMessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
    socket.on("close", () => this.fireClose());
  }

  protected send(text: string, done: (err?: Error | null) => void): void {
    this.socket.send(text, done);
  }

  override end(): void {
    this.socket.close();
  }
}

// WebSocket framing for vscode-jsonrpc: one JSON-RPC message per text frame.
//
// With `app-server app-server --listen ws://IP:PORT` the server takes
// clients over WebSocket instead of stdio; a remote IDE connects with the
// token the server was started with (Authorization: Bearer). As on stdio,
// the server leaves out "jsonrpc" and accepts it on input.

import WebSocket from "ws";
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  Disposable,
  type DataCallback,
  type Message,
  type MessageReader,
  type MessageWriter,
} from "vscode-jsonrpc/node";

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
      let parsed: unknown;
      try {
        parsed = isBinary ? undefined : JSON.parse(text);
      } catch (err) {
        this.fireError(new Error(`not JSON: ${text.slice(0, 200)}: ${String(err)}`));
        return;
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        this.fireError(new Error(`not a JSON-RPC message: ${text.slice(0, 200)}`));
        return;
      }
      const message = { jsonrpc: "2.0", ...parsed } as Message;
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

export class WebSocketMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private errorCount = 0;

  constructor(private readonly socket: WebSocket) {
    super();
    socket.on("close", () => this.fireClose());
  }

  write(msg: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(JSON.stringify(msg), (err) => {
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

  end(): void {
    this.socket.close();
  }
}

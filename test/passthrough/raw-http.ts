// HTTP/1.1 at the socket level, for tests that must see what a library would hide: whether a
// chunked reply ended with its terminating chunk or the connection was cut, and targets that
// drop a connection mid-reply or never answer. Built on node:net, so what the test sees does
// not depend on the HTTP stack under test.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface RawReply {
  /** The status line and headers, as sent. */
  head: string;
  status: number;
  headers: Record<string, string>;
  /** The body with chunked framing removed. */
  body: string;
  /** A chunked reply ended with its terminating `0\r\n\r\n` chunk. */
  terminated: boolean;
  /** The server closed the connection. */
  closed: boolean;
}

/** Decodes what arrived of a chunked body; `terminated` says whether the last chunk came. */
export function decodeChunked(raw: string): { body: string; terminated: boolean } {
  let body = "";
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol === -1) return { body, terminated: false };
    const size = parseInt(raw.slice(at, eol), 16);
    if (Number.isNaN(size)) return { body, terminated: false };
    if (size === 0) return { body, terminated: raw.slice(eol + 2, eol + 4) === "\r\n" };
    body += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/**
 * Sends `request` (the whole HTTP text, or a function that writes it piece by piece) and reads
 * until the server closes the connection, or `idleMs` passes with nothing new — the reply is
 * then returned with `closed: false`.
 */
export function rawExchange(port: number, request: string | ((socket: Socket) => void), idleMs = 5000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    let data = "";
    let done = false;
    const socket = connect(port, "127.0.0.1", () => (typeof request === "string" ? socket.write(request) : request(socket)));
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      socket.destroy();
      const split = data.indexOf("\r\n\r\n");
      if (split === -1) return closed ? resolve({ head: data, status: 0, headers: {}, body: "", terminated: false, closed }) : reject(new Error(`no reply head within ${idleMs} ms: ${JSON.stringify(data)}`));
      const head = data.slice(0, split);
      const headers: Record<string, string> = {};
      for (const line of head.split("\r\n").slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = data.slice(split + 4);
      const chunked = /chunked/i.test(headers["transfer-encoding"] ?? "");
      const { body, terminated } = chunked ? decodeChunked(rest) : { body: rest, terminated: false };
      resolve({ head, status: Number(head.split(" ")[1]), headers, body, terminated, closed });
    };
    let idle = setTimeout(() => finish(false), idleMs);
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      data += d;
      idle.refresh();
    });
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
  });
}

/** One request as a raw target sees it. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What a raw target does with a request: write to the socket, and close it or not. */
export type RawHandler = (req: RawRequest, socket: Socket) => void;

export interface RawTarget {
  readonly url: string;
  readonly port: number;
  /** Every request line received, in order ("GET /api/tags"). */
  readonly seen: string[];
  /** While on, requests are read and never answered: a sleeping machine that drops packets. */
  hold(on: boolean): void;
  stop(): Promise<void>;
}

const reply = (status: number, contentType: string, body: string) =>
  `HTTP/1.1 ${status} ${status === 200 ? "OK" : "Error"}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/**
 * A target on a raw socket that answers Ollama's liveness and metadata requests (HEAD /,
 * /api/tags, /api/ps) and hands everything else to `handle`. Keep-alive requests on one
 * connection are read in turn.
 */
export async function startRawTarget(handle: RawHandler): Promise<RawTarget> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  let holding = false;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.setEncoding("latin1");
    let buffered = "";
    socket.on("data", (d: string) => {
      buffered += d;
      for (;;) {
        const split = buffered.indexOf("\r\n\r\n");
        if (split === -1) return;
        const lines = buffered.slice(0, split).split("\r\n");
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers["content-length"] ?? 0);
        if (buffered.length < split + 4 + length) return;
        const [method = "", path = ""] = lines[0]!.split(" ");
        const req = { method, path, headers, body: buffered.slice(split + 4, split + 4 + length) };
        buffered = buffered.slice(split + 4 + length);
        seen.push(`${method} ${path}`);
        if (holding) continue;
        if (method === "HEAD" && path === "/") socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\n");
        else if (path === "/api/tags") socket.write(reply(200, "application/json; charset=utf-8", JSON.stringify({ models: [{ name: "m:latest", model: "m:latest", modified_at: "2026-01-01T00:00:00Z" }] })));
        else if (path === "/api/ps") socket.write(reply(200, "application/json; charset=utf-8", JSON.stringify({ models: [] })));
        else handle(req, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    hold: (on) => (holding = on),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The head of a chunked reply, then each of `chunks` framed as one chunk. */
export function chunkedHead(contentType: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked\r\n\r\n`;
}

export function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

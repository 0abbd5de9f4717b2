// The liveness probe on a connection of its own: `HEAD /` written by hand on a fresh socket and
// read up to the status line. Bun's fetch runs at most BUN_CONFIG_MAX_HTTP_REQUESTS (256 by
// default) requests at once and queues the rest; under heavy direct traffic (slow uploads,
// slow metadata) a probe sent through fetch would wait behind them, time out, and read as a
// sleeping target — and the worker would hand back the job that is running (ADR 0030).
import type { Socket } from "bun";
import { unreachableCause } from "./errors.ts";

/** The request line and headers of the probe: HEAD on the target's root, the connection closed after. */
export function probeRequest(base: URL, headers: Headers): string {
  const lines = [`HEAD ${base.pathname.replace(/\/*$/, "/")} HTTP/1.1`, `Host: ${base.host}`];
  if (!headers.has("authorization") && (base.username || base.password)) {
    const basic = Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64");
    lines.push(`Authorization: Basic ${basic}`);
  }
  headers.forEach((value, name) => {
    if (name !== "content-type" && name !== "connection" && name !== "host") lines.push(`${name}: ${value}`);
  });
  lines.push("Connection: close");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** The status of an HTTP reply from its first bytes, once its status line is complete; null before. */
export function statusOf(head: string): number | null {
  const eol = head.indexOf("\r\n");
  if (eol === -1) return null;
  const match = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head.slice(0, eol));
  return match ? Number(match[1]) : 0;
}

/** What the probe found: the target answers, or why not (the words `unreachableCause` uses). */
export type Liveness = { up: true } | { up: false; cause: string };

/** Whether the target answers `HEAD /` below 500 within `timeoutMs`, on a socket of its own; when not, why. */
export async function probeLiveness(baseUrl: string, headers: Headers, timeoutMs: number): Promise<Liveness> {
  const base = new URL(baseUrl);
  const tls = base.protocol === "https:";
  const answered = Promise.withResolvers<Liveness>();
  const down = (cause: string) => answered.resolve({ up: false, cause });
  let head = "";
  let socket: Socket<undefined> | undefined;
  const timer = setTimeout(() => down("timed out"), timeoutMs);
  try {
    socket = await Promise.race([
      Bun.connect({
        hostname: base.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: Number(base.port) || (tls ? 443 : 80),
        ...(tls ? { tls: true } : {}),
        socket: {
          open: (s) => void s.write(probeRequest(base, headers)),
          data: (_s, bytes) => {
            head += new TextDecoder("latin1").decode(bytes);
            const status = statusOf(head);
            if (status === null) return;
            if (status > 0 && status < 500) answered.resolve({ up: true });
            else down(status ? `HTTP ${status}` : "not an HTTP reply");
          },
          close: () => down("connection reset"),
          error: (_s, err) => down(unreachableCause(err)),
          connectError: (_s, err) => down(unreachableCause(err)),
        },
      }),
      answered.promise.then(() => undefined),
    ]);
    return await answered.promise;
  } catch (err) {
    return { up: false, cause: unreachableCause(err) };
  } finally {
    clearTimeout(timer);
    socket?.terminate();
  }
}

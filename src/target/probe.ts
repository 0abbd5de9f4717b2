// The liveness probe on a connection of its own: `HEAD /` written by hand on a fresh socket and
// read up to the status line. Bun's fetch runs at most BUN_CONFIG_MAX_HTTP_REQUESTS (256 by
// default) requests at once and queues the rest; under heavy direct traffic (slow uploads,
// slow metadata) a probe sent through fetch would wait behind them, time out, and read as a
// sleeping target — and the worker would hand back the job that is running (ADR 0030).
import type { Socket } from "bun";

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

/** Whether the target answers `HEAD /` below 500 within `timeoutMs`, on a socket of its own. */
export async function probeLiveness(baseUrl: string, headers: Headers, timeoutMs: number): Promise<boolean> {
  const base = new URL(baseUrl);
  const tls = base.protocol === "https:";
  const answered = Promise.withResolvers<boolean>();
  let head = "";
  let socket: Socket<undefined> | undefined;
  const timer = setTimeout(() => answered.resolve(false), timeoutMs);
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
            if (status !== null) answered.resolve(status > 0 && status < 500);
          },
          close: () => answered.resolve(false),
          error: () => answered.resolve(false),
          connectError: () => answered.resolve(false),
        },
      }),
      answered.promise.then(() => undefined),
    ]);
    return await answered.promise;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    socket?.terminate();
  }
}

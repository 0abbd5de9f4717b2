// A loopback TCP proxy a test can cut: it forwards bytes both ways and, when a request line
// matching `cutOn` goes upstream, closes that connection once the upstream answers (or after
// after a pause) — a dropped connection at the worst moment, with the request delivered.
import { createConnection, createServer, type Socket } from "node:net";

export interface CuttableProxy {
  url: string;
  /** How many connections were cut. */
  cuts(): number;
  /** Cut the next connection whose request matches `pattern`: instead of its reply, or `when` ms after it went upstream. */
  cutOnce(pattern: RegExp, when: "reply" | number): void;
  stop(): Promise<void>;
}

export async function startProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let armed: { pattern: RegExp; when: "reply" | number } | null = null;
  let cuts = 0;
  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    let cutOnReply = false;
    client.on("data", (chunk: Buffer) => {
      if (armed && armed.pattern.test(chunk.toString("latin1"))) {
        const { when } = armed;
        armed = null;
        cuts++;
        if (when === "reply") cutOnReply = true;
        else setTimeout(drop, when);
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => (cutOnReply ? drop() : client.write(chunk)));
    for (const s of [client, upstream]) {
      s.on("error", drop);
      s.on("close", () => {
        sockets.delete(s);
        drop();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    cuts: () => cuts,
    cutOnce: (pattern, when) => {
      armed = { pattern, when };
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

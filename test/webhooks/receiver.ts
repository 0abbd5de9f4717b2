// A real webhook receiver on loopback, for the webhook tests.
import type { Job } from "../../src/queue/view.ts";
import { waitFor } from "../harness.ts";

export interface Received {
  headers: Headers;
  body: string;
  json: { type: string; timestamp: string; data: Job & { artifact?: unknown } };
}

/**
 * A webhook receiver on port 0; `failFirst` answers 500 that many times before accepting.
 * What it accepts is in `received`, what it answered 500 to in `refused`.
 */
export function startReceiver(opts: { failFirst?: number } = {}) {
  const received: Received[] = [];
  const refused: Received[] = [];
  let failures = opts.failFirst ?? 0;
  let down = false;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.text();
      const delivery = { headers: req.headers, body, json: JSON.parse(body) };
      if (down || failures > 0) {
        failures--;
        refused.push(delivery);
        return new Response("not now", { status: 500 });
      }
      received.push(delivery);
      return new Response("ok");
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    received,
    refused,
    setDown(value: boolean) {
      down = value;
    },
    /** Resolves with everything received once `predicate` holds of it. */
    until(predicate: (r: Received[]) => boolean, timeoutMs = 30_000): Promise<Received[]> {
      return waitFor(() => predicate(received) && received, { what: () => `the webhooks awaited (the receiver got ${received.map((r) => r.json.type).join(", ") || "nothing"})`, timeoutMs });
    },
    stop: () => server.stop(true),
  };
}

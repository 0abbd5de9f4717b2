// Test helpers for the job API: a real webhook receiver on loopback, and small HTTP shortcuts.
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

export async function postJob(base: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; job: Job; headers: Headers; raw: unknown }> {
  const res = await fetch(`${base}/jobs`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const raw = await res.json();
  return { status: res.status, job: raw as Job, headers: res.headers, raw };
}

export async function getJob(base: string, id: string, wait?: number): Promise<Job> {
  return (await (await fetch(`${base}/jobs/${id}${wait ? `?wait=${wait}` : ""}`)).json()) as Job;
}

export const chatRequest = (model = "llama3.2", content = "hello") => ({ model, messages: [{ role: "user", content }] });

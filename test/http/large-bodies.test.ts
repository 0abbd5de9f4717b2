// A body near the size limit (FOREMAN_MAX_BODY_BYTES, 64 MiB) goes through foreman whole: a
// passthrough body reaches the target byte for byte, a job's request reaches it as submitted,
// and the job's record — read with every transition and view — does not carry the request body
// (issue 24: each read of it was another copy of tens of megabytes in memory). How much memory
// such bodies take is measured in bench/bodies.ts, not here.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { startTestForeman, type TestForeman } from "../harness.ts";

const SIZE = 60_000_000;

/** `wrap` of a chat request whose JSON is SIZE bytes, non-ASCII text included (its UTF-8 must arrive as sent). */
function sized<T>(wrap: (chat: { model: string; messages: { role: string; content: string }[] }) => T): T {
  const chat = (content: string) => ({ model: "llama3.2", messages: [{ role: "user", content }] });
  const shell = JSON.stringify(wrap(chat(""))).length;
  const tail = "déjà vu — ☕";
  return wrap(chat("x".repeat(SIZE - shell - new TextEncoder().encode(tail).byteLength) + tail));
}

let sim: Simulator;
let target: ReturnType<typeof Bun.serve>;
let foreman: TestForeman;
/** The bodies the target received for inference, as bytes. */
const received: Uint8Array[] = [];

beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0, responseTokens: 1 });
  // in front of the simulator: keeps each inference body as it arrived, then passes it on
  target = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    maxRequestBodySize: 128 * 1024 * 1024,
    async fetch(req) {
      const url = new URL(req.url);
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.bytes();
      if (url.pathname === "/api/chat" && body) received.push(body);
      return fetch(`${sim.url}${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body });
    },
  });
  foreman = await startTestForeman({ target: `http://127.0.0.1:${target.port}`, maxBodyBytes: 64 * 1024 * 1024 });
});

afterAll(async () => {
  await foreman?.stop();
  target?.stop(true);
  await sim?.stop();
});

describe("a 60 MB body", () => {
  test("to /api/chat: answered, and forwarded to the target byte for byte", async () => {
    const sent = new TextEncoder().encode(JSON.stringify(sized((chat) => ({ ...chat, stream: false }))));
    expect(sent.byteLength).toBe(SIZE);
    received.length = 0;
    const res = await fetch(`${foreman.url}/api/chat`, { method: "POST", body: sent, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { done: boolean }).done).toBe(true);
    expect(received).toHaveLength(1);
    expect(Buffer.from(received[0]!).equals(Buffer.from(sent))).toBe(true);
  }, 120_000);

  test("to POST /jobs: accepted, run with the request as submitted, and the job's record holds no copy of it", async () => {
    const { request } = sized((chat) => ({ request: chat }));
    const submission = new TextEncoder().encode(JSON.stringify({ request }));
    expect(submission.byteLength).toBe(SIZE);
    received.length = 0;
    const res = await fetch(`${foreman.url}/jobs`, { method: "POST", body: submission, headers: { "content-type": "application/json", prefer: "wait=60" } });
    const job = (await res.json()) as { id: string; status: string };
    expect([res.status, job.status]).toEqual([200, "done"]);
    expect(received).toHaveLength(1);
    // what the target gets is the request, streamed (as every job is sent)
    expect(JSON.parse(new TextDecoder().decode(received[0]!))).toEqual({ ...request, stream: true });
    const { queue } = foreman.services;
    expect(queue.requestOf(job.id)).toBe(JSON.stringify(request));
    expect(Object.keys(queue.get(job.id)!)).not.toContain("request");
  }, 120_000);
});

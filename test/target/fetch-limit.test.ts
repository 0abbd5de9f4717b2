// Bun's fetch runs at most BUN_CONFIG_MAX_HTTP_REQUESTS (256 by default) requests at once and
// queues the rest. More than that many slow direct requests (blob uploads trickling in) must
// not queue the liveness probe behind them: a probe that cannot go out in time reads as a
// sleeping target, and the worker would hand back the job that is running (ADR 0030).
import { describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { listeningUrl, perTest, postJob, tempDir, waitFor } from "../harness.ts";

const start = perTest();
const UPLOADS = 300;

/** A blob upload through foreman that sends its head and a first piece, then nothing: a raw socket, so the test's own fetch limit is not in the way. */
function trickle(port: number, i: number): Socket {
  const digest = `sha256:${i.toString(16).padStart(64, "0")}`;
  const socket = connect(port, "127.0.0.1", () => socket.write(`POST /api/blobs/${digest} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 1000\r\n\r\nfirst piece`));
  socket.on("error", () => {});
  return socket;
}

const uploadsAtTarget = (requests: Record<string, number>) => Object.entries(requests).filter(([key]) => key.startsWith("POST /api/blobs/")).length;

describe("more direct requests in flight than Bun's fetch allows at once", () => {
  test("the liveness probe still goes out: the running job is not handed back", async () => {
    // a job of about 3 s; a probe that waits more than 300 ms reads as a sleeping target
    const s = await start.stack({ sim: { tokenDelayMs: 30, responseTokens: 100 }, foreman: { connectTimeoutMs: 300, pollIntervalMs: 100, pollMaxBackoffMs: 200, bodyTimeoutMs: 60_000 } });
    const downs: number[] = [];
    s.foreman.services.poller.onChange((up) => void (up || downs.push(Date.now())));
    const { job } = await postJob(s.url, { endpoint: "/api/generate", request: { model: "llama3.2", prompt: "a long answer" } });
    await waitFor(async () => ((await (await fetch(`${s.url}/jobs/${job.id}`)).json()) as { status: string }).status === "working", { what: "the job to be working" });
    const sockets = Array.from({ length: UPLOADS }, (_, i) => trickle(s.foreman.port, i));
    start.defer(() => sockets.forEach((socket) => socket.destroy()));
    await waitFor(() => uploadsAtTarget(s.sim.counters.requests) >= 256, { what: () => `uploads at the target (${uploadsAtTarget(s.sim.counters.requests)})`, timeoutMs: 20_000 });
    // read in-process: the test's own fetch would queue behind foreman's, in this same process
    const ended = await waitFor(() => {
      const j = s.foreman.services.queue.get(job.id)!;
      return (j.status === "done" || j.status === "queued") && j;
    }, { what: "the job to be done, or handed back", timeoutMs: 30_000 });
    expect(ended.status).toBe("done");
    const events = s.foreman.services.queue.events(job.id).map((e) => e.type);
    expect(events).toEqual(["queued", "loading", "working", "done"]);
    expect(downs).toEqual([]);
    // foreman runs in this process, with Bun's default limit: the uploads past it waited in fetch's queue
    expect(uploadsAtTarget(s.sim.counters.requests)).toBeLessThan(UPLOADS);
  }, 60_000);
});

const node = Bun.which("node");

describe.skipIf(!node)("the launcher (bin/foreman.mjs) raises the limit", () => {
  test("all of more than 256 slow uploads reach the target at once", async () => {
    const s = await start.stack();
    const dir = tempDir();
    start.defer(() => dir.remove());
    const launcher = join(import.meta.dir, "..", "..", "bin", "foreman.mjs");
    const args = ["serve", "--port", "0", "--host", "127.0.0.1", "--target", s.sim.url, "--db", join(dir.path, "foreman.db")];
    // the caller's environment without the setting, so the launcher's own value is what counts
    const proc = Bun.spawn([node!, launcher, ...args], { env: { HOME: process.env.HOME ?? "/tmp", PATH: process.env.PATH ?? "" }, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    start.defer(async () => {
      proc.kill("SIGKILL");
      await proc.exited;
    });
    const port = Number(new URL(await listeningUrl(proc.stderr)).port);
    const sockets = Array.from({ length: UPLOADS }, (_, i) => trickle(port, i));
    start.defer(() => sockets.forEach((socket) => socket.destroy()));
    await waitFor(() => uploadsAtTarget(s.sim.counters.requests) === UPLOADS, { what: () => `every upload at the target (${uploadsAtTarget(s.sim.counters.requests)})`, timeoutMs: 20_000 });
  }, 60_000);
});

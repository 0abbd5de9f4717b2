import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ForemanClient, ForemanHttpError, type JobEvent } from "foreman/client";
import { sharedStack } from "../harness.ts";

setDefaultTimeout(60_000);

const job = (status: string) => JSON.stringify({ id: "j1", status });

describe("events() resumes a dropped stream", () => {
  // A stand-in for the events route that drops the first connection before the job ends:
  // what the client sends on reconnect is the point of this test.
  const seen: (string | null)[] = [];
  let stub: ReturnType<typeof Bun.serve>;

  beforeAll(() => {
    stub = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        if (new URL(req.url).pathname !== "/jobs/j1/events") return Response.json({ error: { status: 404, message: "no such job" } }, { status: 404 });
        const last = req.headers.get("last-event-id");
        seen.push(last);
        const text =
          last === null
            ? `retry: 10\nid: 1\nevent: job.queued\ndata: ${job("queued")}\n\n: keep-alive\n\nid: 2\nevent: job.progress\ndata: {"text":"hé","chunks":1,"tokens":1,"offset":0}\n\nid: 3\nevent: job.prog`
            : // re-opened mid-job: the text so far first (offset 0), then what comes next
              `event: job.progress\ndata: {"text":"héllo","chunks":2,"tokens":2,"offset":0}\n\nevent: job.progress\ndata: {"text":"!","chunks":3,"tokens":3,"offset":5}\n\nid: 4\nevent: job.done\ndata: ${job("done")}\n\nid: 5\nevent: job.never\ndata: {}\n\n`;
        return new Response(text, { headers: { "content-type": "text/event-stream" } });
      },
    });
  });

  afterAll(() => stub.stop(true));

  test("events arrive once, in order, the text once; the reconnect sends Last-Event-ID; the iterator ends at the terminal event", async () => {
    const client = new ForemanClient({ baseUrl: `http://127.0.0.1:${stub.port}` });
    const events: JobEvent[] = [];
    for await (const e of client.events("j1")) events.push(e);
    expect(events.map((e) => [e.id, e.event])).toEqual([
      ["1", "job.queued"],
      ["2", "job.progress"],
      [undefined, "job.progress"],
      [undefined, "job.progress"],
      ["4", "job.done"],
    ]);
    // the re-opened stream's text so far is cut to what the caller has not had
    expect(events.slice(1, 4).map((e) => e.data)).toEqual([
      { text: "hé", chunks: 1, tokens: 1, offset: 0 },
      { text: "llo", chunks: 2, tokens: 2, offset: 2 },
      { text: "!", chunks: 3, tokens: 3, offset: 5 },
    ]);
    expect(seen).toEqual([null, "2"]);
  });

  test("lastEventId starts after it; an unknown job is a ForemanHttpError", async () => {
    const client = new ForemanClient({ baseUrl: `http://127.0.0.1:${stub.port}` });
    const events: JobEvent[] = [];
    for await (const e of client.events("j1", { lastEventId: "3" })) events.push(e);
    // a caller that starts mid-job has none of the text: it gets all of it
    expect(events.map((e) => [e.event, e.event === "job.progress" ? e.data.text : e.data.status])).toEqual([
      ["job.progress", "héllo"],
      ["job.progress", "!"],
      ["job.done", "done"],
    ]);
    const err = await client.events("nope").next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForemanHttpError);
  });
});

describe("events() against foreman", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 20, loadMs: 20 } });

  test("a job's state changes and progress, ending with job.done; resumable after any state event", async () => {
    const client = new ForemanClient({ baseUrl: stack.url });
    const job = await client.submit({ request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] } });
    const events: JobEvent[] = [];
    for await (const e of client.events(job.id)) events.push(e);
    const states = events.filter((e) => e.event !== "job.progress");
    expect(states[0]!.event).toBe("job.queued");
    expect(states.at(-1)!.event).toBe("job.done");
    expect(states.map((e) => [typeof e.id, e.data.id])).toEqual(states.map(() => ["string", job.id]));
    const progress = events.filter((e) => e.event === "job.progress");
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((e) => (e.data as { text: string }).text).join("")).toBeTruthy();
    // resuming after the first state event replays only the ones that came after it
    const rest: JobEvent[] = [];
    for await (const e of client.events(job.id, { lastEventId: states[0]!.id })) rest.push(e);
    expect(rest.map((e) => e.id)).toEqual(states.slice(1).map((e) => e.id));
  });
});

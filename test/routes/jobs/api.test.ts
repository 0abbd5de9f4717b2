// The async job API end to end against the simulator.
import { describe, expect, test } from "bun:test";
import type { Job } from "../../../src/queue/view.ts";
import { chatRequest, getJob, postJob, sharedStack, waitFor } from "../../harness.ts";

const stack = sharedStack({
  sim: {
    tokenDelayMs: 2,
    loadMs: 5,
    models: [
      { name: "llama3.2" },
      { name: "mistral" },
      { name: "slowload", loadMs: 60_000 },
      { name: "nomic-embed-text", kind: "embed" },
      { name: "qwen3:0.6b", capabilities: ["completion", "tools", "thinking"] },
    ],
  },
});

const untilStatus = (id: string, status: string) =>
  waitFor(
    async () => {
      const job = await getJob(stack.url, id);
      if (job.status !== status && ["done", "failed", "canceled"].includes(job.status)) throw new Error(`job ended ${job.status}, wanted ${status}`);
      return job.status === status && job;
    },
    { what: `job ${id} to be ${status}`, intervalMs: 5 },
  );

describe("POST /jobs", () => {
  test("202 with the job and its Location; the job object carries what clients need", async () => {
    const { status, job, headers } = await postJob(stack.url, { request: chatRequest(), metadata: { user: "ana" }, priority: 3 });
    expect(status).toBe(202);
    expect(headers.get("location")).toBe(`/jobs/${job.id}`);
    expect(job).toEqual(
      expect.objectContaining({ status: "queued", endpoint: "/api/chat", model: "llama3.2", priority: 3, metadata: { user: "ana" }, attempts: 0, progress: { chunks: 0, tokens: 0 }, error: null }),
    );
    expect(job.links.artifact).toBe(`/jobs/${job.id}/artifact`);
    const done = await getJob(stack.url, job.id, 30);
    expect(done.status).toBe("done");
    expect(done.progress.tokens).toBeGreaterThan(0);
    expect(done.started_at).not.toBeNull();
    expect(done.finished_at).not.toBeNull();
    // timings speak snake_case like the rest of the job object
    expect(Object.keys(done.timings ?? {}).sort()).toEqual(expect.arrayContaining(["queue_ms", "total_ms", "ttft_ms"]));
    for (const key of Object.keys(done.timings ?? {})) expect(key).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  test("Prefer: wait returns the finished job with Preference-Applied", async () => {
    const { status, job, headers } = await postJob(stack.url, { request: chatRequest() }, { prefer: "wait=30" });
    expect(status).toBe(200);
    expect(job.status).toBe("done");
    expect(headers.get("preference-applied")).toBe("wait=30");
  });

  test("Prefer: wait that runs out answers 202 as usual", async () => {
    const { status, job } = await postJob(stack.url, { request: chatRequest("slowload") }, { prefer: "wait=1" });
    expect(status).toBe(202);
    expect(["queued", "loading"]).toContain(job.status);
    await fetch(`${stack.url}/jobs/${job.id}/cancel`, { method: "POST" });
  });

  test("the same Idempotency-Key and body give one job, even for concurrent submits", async () => {
    const key = `k-${crypto.randomUUID()}`;
    const body = { request: chatRequest("llama3.2", "once") };
    const replies = await Promise.all(Array.from({ length: 20 }, () => postJob(stack.url, body, { "idempotency-key": key })));
    const ids = new Set(replies.map((r) => r.job.id));
    expect(ids.size).toBe(1);
    expect(replies.filter((r) => r.status === 202)).toHaveLength(1);
    expect(replies.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
    const count = stack.foreman.services.store.db.query("SELECT COUNT(*) AS n FROM jobs WHERE idempotency_key = ?").get(key);
    expect(count).toEqual({ n: 1 });
  });

  test("the same Idempotency-Key with another body is 422", async () => {
    const key = `k-${crypto.randomUUID()}`;
    expect((await postJob(stack.url, { request: chatRequest("llama3.2", "a") }, { "idempotency-key": key })).status).toBe(202);
    const other = await postJob(stack.url, { request: chatRequest("llama3.2", "b") }, { "idempotency-key": key });
    expect(other.status).toBe(422);
    expect(JSON.stringify(other.raw)).toContain("Idempotency-Key");
  });

  test.each([
    ["malformed JSON", "{nope", 400, "not valid JSON"],
    ["wrong type", JSON.stringify({ request: chatRequest(), priority: "high" }), 400, "/priority"],
    ["unknown endpoint", JSON.stringify({ endpoint: "/api/nope", request: chatRequest() }), 400, "/endpoint"],
    ["missing model", JSON.stringify({ request: { messages: [] } }), 422, "/request/model"],
    ["missing request", JSON.stringify({ endpoint: "/api/chat" }), 400, "/request"],
    ["unknown field", JSON.stringify({ request: chatRequest(), colour: "red" }), 400, "/colour"],
    ["bad webhook URL", JSON.stringify({ request: chatRequest(), webhook: "ftp://x/y" }), 400, "/webhook"],
    ["wrong request shape for the endpoint", JSON.stringify({ endpoint: "/v1/chat/completions", request: { model: "m", messages: [] } }), 422, "/request/messages"],
    ["oversized metadata", JSON.stringify({ request: chatRequest(), metadata: { blob: "x".repeat(20_000) } }), 413, "/metadata"],
    // Ollama's name rules and wording: a megabyte of model name never reaches the queue (or /status)
    ["a model name of a megabyte", JSON.stringify({ request: chatRequest("m".repeat(1 << 20)) }), 422, "/request/model: invalid model name"],
    ["a model name with a space", JSON.stringify({ request: chatRequest("llama 3") }), 422, "/request/model: invalid model name"],
    ["a model name of four parts", JSON.stringify({ request: chatRequest("a/b/c/d") }), 422, "/request/model: invalid model name"],
    // numbers past a 64-bit float: JSON.parse reads Infinity (stored as null); Ollama's decoder refuses them
    ["a number out of range", '{"request":{"model":"llama3.2","messages":[],"options":{"temperature":1e999}}}', 400, "/request/options/temperature: number out of range"],
    ["a negative number out of range", '{"request":{"model":"llama3.2","messages":[],"options":{"stop":[-1e400]}}}', 400, "/request/options/stop/0: number out of range"],
    ["a number out of range in the metadata", '{"request":{"model":"llama3.2","messages":[]},"metadata":{"n":2e308}}', 400, "/metadata/n: number out of range"],
  ])("%s is a 4xx naming the problem, and nothing is written", async (_name, body, status, mention) => {
    // the shared stack's earlier jobs end first: their events are not this refusal's
    await waitFor(() => stack.foreman.services.queue.activeCounts().length === 0, { what: "the earlier tests' jobs to end" });
    const before = stack.foreman.services.store.db.query("SELECT (SELECT COUNT(*) FROM jobs) AS j, (SELECT COUNT(*) FROM job_events) AS e").get();
    const res = await fetch(`${stack.url}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(status);
    const err = (await res.json()) as { error: { status: number; message: string; field?: string } };
    expect(err.error.status).toBe(status);
    expect(err.error.message + (err.error.field ?? "")).toContain(mention);
    expect(stack.foreman.services.store.db.query("SELECT (SELECT COUNT(*) FROM jobs) AS j, (SELECT COUNT(*) FROM job_events) AS e").get()).toEqual(before);
  });
});

test.each(["library/llama3.2:latest", "registry.ollama.ai/library/llama3.2", "hf.co/someone/model-GGUF:Q4_K_M", "llama3.2:cloud", "_private/m1.5"])("the model name %p is one Ollama takes: accepted", async (model) => {
  const { status, job } = await postJob(stack.url, { request: chatRequest(model) });
  expect(status).toBe(202);
  expect(job.model).toBe(model);
  await fetch(`${stack.url}/jobs/${job.id}/cancel`, { method: "POST" });
});

describe("cancel", () => {
  test("a queued job is canceled at once", async () => {
    // keep the worker busy on a long load so the next job stays queued
    const blocker = await postJob(stack.url, { request: chatRequest("slowload") });
    await untilStatus(blocker.job.id, "loading");
    const { job } = await postJob(stack.url, { request: chatRequest("mistral") });
    expect(job.status).toBe("queued");
    const res = await fetch(`${stack.url}/jobs/${job.id}/cancel`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("canceled");
    // a loading job: the upstream request is aborted, then canceled
    const aborted = stack.sim.counters.aborted;
    const res2 = await fetch(`${stack.url}/jobs/${blocker.job.id}/cancel`, { method: "POST" });
    expect(res2.status).toBe(200);
    expect(((await res2.json()) as { status: string }).status).toBe("canceled");
    await waitFor(() => stack.sim.counters.aborted > aborted, { what: "the target to see the load aborted" });
  });

  test("a working job stops generating and ends canceled; a finished job cannot be canceled (409)", async () => {
    const { job } = await postJob(stack.url, { request: { ...chatRequest("llama3.2", "long"), options: { num_predict: 2000 } } });
    await untilStatus(job.id, "working");
    const res = await fetch(`${stack.url}/jobs/${job.id}/cancel`, { method: "POST" });
    expect(((await res.json()) as { status: string }).status).toBe("canceled");
    const again = await fetch(`${stack.url}/jobs/${job.id}/cancel`, { method: "POST" });
    expect(again.status).toBe(409);
    expect((await fetch(`${stack.url}/jobs/${job.id}/artifact`)).status).toBe(404);
  });

  test("an unknown job is 404", async () => {
    expect((await fetch(`${stack.url}/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel`, { method: "POST" })).status).toBe(404);
  });
});

describe("artifacts", () => {
  const direct = async (path: string, body: Record<string, unknown>) => (await (await fetch(`${stack.sim.url}${path}`, { method: "POST", body: JSON.stringify(body) })).json()) as Record<string, any>;

  test.each([
    ["/api/chat", { model: "llama3.2", messages: [{ role: "user", content: "hi there" }] }, (a: any, d: any) => [a.message, a.done_reason, a.model, a.eval_count, d.message, d.done_reason, d.model, d.eval_count]],
    ["/api/generate", { model: "llama3.2", prompt: "once upon" }, (a: any, d: any) => [a.response, a.done_reason, a.context, d.response, d.done_reason, d.context]],
    ["/api/embed", { model: "nomic-embed-text", input: ["a", "b"] }, (a: any, d: any) => [a.embeddings, d.embeddings]],
    ["/api/embeddings", { model: "nomic-embed-text", prompt: "a" }, (a: any, d: any) => [a.embedding, d.embedding]],
    ["/v1/chat/completions", { model: "llama3.2", messages: [{ role: "user", content: "hi" }] }, (a: any, d: any) => [a.object, a.choices, a.usage, a.model, d.object, d.choices, d.usage, d.model]],
    ["/v1/completions", { model: "llama3.2", prompt: "hi" }, (a: any, d: any) => [a.object, a.choices, a.usage, d.object, d.choices, d.usage]],
    ["/v1/embeddings", { model: "nomic-embed-text", input: "hi" }, (a: any, d: any) => [a.data, a.usage, d.data, d.usage]],
    // the Responses API: the output items without their random ids, and what the response echoes
    ["/v1/responses", { model: "qwen3:0.6b", input: "why", instructions: "be brief" }, (a: any, d: any) => [...[a, d].map((r) => [r.object, r.status, r.model, r.instructions, r.usage, r.text, r.tools, r.output.map(({ id: _, ...item }: any) => item)])]],
    // Anthropic's Messages API: the content blocks, rebuilt from the deltas
    ["/v1/messages", { model: "qwen3:0.6b", max_tokens: 64, messages: [{ role: "user", content: "hi" }] }, (a: any, d: any) => [a.type, a.role, a.model, a.content, a.stop_reason, a.usage, d.type, d.role, d.model, d.content, d.stop_reason, d.usage]],
  ] as const)("%s: the artifact equals the target's non-streamed reply", async (endpoint, request, pick) => {
    const { job } = await postJob(stack.url, { endpoint, request }, { prefer: "wait=30" });
    expect(job.status).toBe("done");
    const res = await fetch(`${stack.url}/jobs/${job.id}/artifact`);
    expect(res.headers.get("content-type")).toContain("application/json");
    const artifact = await res.json();
    const reference = await direct(endpoint, { ...request, stream: false });
    const values = pick(artifact, reference);
    const half = values.length / 2;
    expect(values.slice(0, half)).toEqual(values.slice(half));
    expect(Object.keys(artifact as object)).toEqual(Object.keys(reference));
  });

  test("no artifact until done", async () => {
    const { job } = await postJob(stack.url, { request: chatRequest("slowload") });
    const res = await fetch(`${stack.url}/jobs/${job.id}/artifact`);
    expect(res.status).toBe(404);
    await fetch(`${stack.url}/jobs/${job.id}/cancel`, { method: "POST" });
  });
});

describe("GET /jobs", () => {
  test("newest first, filtered by status and model, paginated by cursor", async () => {
    const tag = crypto.randomUUID();
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await postJob(stack.url, { request: chatRequest("mistral", tag) }, { prefer: "wait=30" })).job.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await fetch(`${stack.url}/jobs?model=mistral&status=done&limit=3${cursor ? `&cursor=${cursor}` : ""}`)).json()) as { jobs: { id: string; model: string; status: string }[]; next_cursor: string | null };
      expect(page.jobs.length).toBeLessThanOrEqual(3);
      for (const j of page.jobs) expect([j.model, j.status]).toEqual(["mistral", "done"]);
      seen.push(...page.jobs.map((j) => j.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort().reverse());
    for (const id of made) expect(seen).toContain(id);
  });

  test("bad filters and page sizes are 400s naming the parameter", async () => {
    for (const q of ["status=nope", "limit=0", "limit=501", "limit=abc", "cursor=zzz", "colour=red", "model=bad%20name", `model=${"m".repeat(100)}`]) {
      const res = await fetch(`${stack.url}/jobs?${q}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(q.split("=")[0]!);
    }
  });

  test("lane=interactive lists passthrough requests: the waiting ones with their queue position and request id", async () => {
    const abort = new AbortController();
    const call = (requestId: string, model: string) =>
      fetch(`${stack.url}/api/chat`, { method: "POST", headers: { "x-request-id": requestId }, body: JSON.stringify({ ...chatRequest(model), stream: false }), signal: abort.signal }).catch(() => undefined);
    const list = async (query: string) => ((await (await fetch(`${stack.url}/jobs?${query}`)).json()) as { jobs: Job[] }).jobs;
    const calls = [call("ahead-1", "slowload")];
    try {
      // the first holds the worker (a minute-long load); the next two wait behind it
      await waitFor(async () => (await list("lane=interactive&status=loading")).some((j) => j.request_id === "ahead-1"), { what: "the first passthrough request on the target" });
      calls.push(call("behind-2", "llama3.2"));
      await waitFor(async () => (await list("lane=interactive&status=queued")).length === 1, { what: "the second passthrough request in the queue" });
      calls.push(call("behind-3", "mistral"));
      const waiting = await waitFor(async () => {
        const jobs = await list("lane=interactive&status=queued");
        return jobs.length === 2 && jobs;
      }, { what: "two passthrough requests in the queue" });
      expect(waiting.map((j) => [j.request_id, j.lane, j.endpoint, j.model, j.queue_position])).toEqual([
        ["behind-3", "interactive", "/api/chat", "mistral", 1],
        ["behind-2", "interactive", "/api/chat", "llama3.2", 0],
      ]);
      // async jobs stay the default listing
      expect((await list("limit=500")).filter((j) => j.lane !== "async")).toEqual([]);
      expect((await list("lane=async&limit=500")).map((j) => j.lane)).not.toContain("interactive");
    } finally {
      abort.abort();
      await Promise.all(calls);
    }
    await waitFor(async () => (await list("lane=interactive")).every((j) => j.status === "canceled" || j.status === "done"), { what: "the passthrough requests to end" });
  });

  test("a status outside the job states is a 400 that names the valid ones", async () => {
    const res = await fetch(`${stack.url}/jobs?status=bogus`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { status: 400, message: "query /status: expected one of queued, loading, working, done, failed, canceled", field: "query /status" },
    });
  });
});

describe("GET /jobs/{id}/events", () => {
  async function readEvents(res: Response): Promise<{ id?: string; event?: string; data: any }[]> {
    const text = await res.text();
    return text
      .split("\n\n")
      .filter((b) => b.trim() && !b.startsWith(":"))
      .map((block) => {
        const fields = Object.fromEntries(block.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]));
        return { id: fields.id, event: fields.event, data: JSON.parse(fields.data!) };
      });
  }

  test("streams state changes and generated text live, then ends", async () => {
    const { job } = await postJob(stack.url, { request: { ...chatRequest("mistral", "stream me"), options: { num_predict: 20 } } });
    const res = await fetch(`${stack.url}/jobs/${job.id}/events`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = await readEvents(res);
    const states = events.filter((e) => e.event !== "job.progress").map((e) => e.event);
    expect(states[0]).toBe("job.queued");
    expect(states.at(-1)).toBe("job.done");
    const text = events.filter((e) => e.event === "job.progress").map((e) => e.data.text).join("");
    const artifact = (await (await fetch(`${stack.url}/jobs/${job.id}/artifact`)).json()) as { message: { content: string } };
    expect(text.length).toBeGreaterThan(0);
    expect(artifact.message.content).toEndWith(text.slice(-10));
  });

  test("Last-Event-ID resumes after that event; a finished job replays and ends", async () => {
    const { job } = await postJob(stack.url, { request: chatRequest() }, { prefer: "wait=30" });
    const all = await readEvents(await fetch(`${stack.url}/jobs/${job.id}/events`));
    expect(all.map((e) => e.event)).toEqual(expect.arrayContaining(["job.queued", "job.working", "job.done"]));
    const resumed = await readEvents(await fetch(`${stack.url}/jobs/${job.id}/events`, { headers: { "last-event-id": all[0]!.id! } }));
    expect(resumed.map((e) => e.id)).toEqual(all.slice(1).map((e) => e.id));
    expect(resumed.at(-1)!.data.status).toBe("done");
    // resuming after the final event of a finished job ends at once
    const after = await readEvents(await fetch(`${stack.url}/jobs/${job.id}/events`, { headers: { "last-event-id": all.at(-1)!.id! } }));
    expect(after).toEqual([]);
  });

  test("a finished job's events replay the job as it was at each event, resumed or not", async () => {
    // a fresh model: queued, then loading, then working, then done
    const { job } = await postJob(stack.url, { request: { model: "nomic-embed-text", input: "x" }, endpoint: "/api/embed" }, { prefer: "wait=30" });
    const { job: chat } = await postJob(stack.url, { request: chatRequest("llama3.2", "replay me") }, { prefer: "wait=30" });
    for (const id of [job.id, chat.id]) {
      const final = await getJob(stack.url, id);
      expect(final.status).toBe("done");
      const all = await readEvents(await fetch(`${stack.url}/jobs/${id}/events`));
      const [queued, ...rest] = all;
      // the first event: the job as it was when it was queued, not as it ended
      expect(queued!.event).toBe("job.queued");
      expect(queued!.data).toMatchObject({ id, status: "queued", started_at: null, finished_at: null, attempts: 0, progress: { chunks: 0, tokens: 0 }, timings: null, error: null, queue_position: expect.any(Number) });
      expect(queued!.data.created_at).toBe(final.created_at);
      // each later event: its own state, timestamps and timings of that moment
      const running = rest.filter((e) => e.event === "job.loading" || e.event === "job.working");
      expect(running.length).toBeGreaterThan(0);
      for (const e of running) {
        expect(e.data.status).toBe(e.event!.slice("job.".length));
        expect(e.data).toMatchObject({ started_at: final.started_at, finished_at: null, attempts: 1 });
        expect(e.data.timings).not.toHaveProperty("total_ms");
        expect(e.data.timings).toHaveProperty("queue_ms");
      }
      expect(rest.at(-1)!.data).toEqual(final);
      // resumed after the first event: the next one is the job as it was then, too
      const resumed = await readEvents(await fetch(`${stack.url}/jobs/${id}/events`, { headers: { "last-event-id": queued!.id! } }));
      expect(resumed.map((e) => e.data)).toEqual(rest.map((e) => e.data));
    }
  });
});

// What it cost, end to end (issue 20, ADR 0036): over 1,000 mixed jobs and passthrough
// requests on the simulator — six endpoints, three dialects, streamed and not, several models,
// tags and clients — GET /usage sums exactly the counts the target reported in the replies the
// callers got, with the streamed /v1 replies that carried no counts reported apart as estimated;
// the same totals reach /metrics; usage is in the job view, its job.done event and webhook.
// Bad tags and times are refused in the caller's dialect; X-Forwarded-For counts only from a
// listed proxy; /usage is behind the token.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Job } from "../../src/queue/view.ts";
import { join } from "node:path";
import { ASYNC, Queue } from "../../src/queue/queue.ts";
import { UsageLedger } from "../../src/queue/usage.ts";
import { openStore } from "../../src/store/open.ts";
import { getJob, perTest, postJob, seededRandom, startStack, tempDir, waitFor, type Stack } from "../harness.ts";
import { namedEvents, sseData } from "../wire.ts";

const JOBS = 1000;
const MODELS = ["llama3.2", "mistral", "qwen2.5:0.5b"];
const TAGS = ["nightly", "eval", undefined];
const UA = "usage-test/1.0 (bun)";

interface Counted {
  model: string;
  lane: "async" | "interactive";
  tag: string | null;
  prompt: number;
  output: number;
  estimated: boolean;
}

interface UsageReport {
  by: string;
  since: string;
  until: string;
  rows: { group: string | null; estimated: boolean; jobs: number; prompt_tokens: number; output_tokens: number; load_ms: number; prompt_eval_ms: number; generation_ms: number; target_ms: number }[];
}

type Json = Record<string, unknown>;
const obj = (v: unknown) => v as Json;

/** The counts a reply in the non-streamed shape carries, read here by endpoint (not by foreman's code). */
function countsOf(endpoint: string, reply: Json): { prompt: number; output: number } {
  if (endpoint.startsWith("/api/")) return { prompt: reply.prompt_eval_count as number, output: (reply.eval_count as number | undefined) ?? 0 };
  const u = obj(reply.usage);
  if (endpoint === "/v1/messages" || endpoint === "/v1/responses") return { prompt: u.input_tokens as number, output: u.output_tokens as number };
  return { prompt: u.prompt_tokens as number, output: u.completion_tokens as number };
}

let stack: Stack;
const counted: Counted[] = [];
const asyncJobs: { id: string; endpoint: string }[] = [];
const hooks: { type: string; data: Job }[] = [];
let receiver: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (req) => {
      hooks.push((await req.json()) as { type: string; data: Job });
      return new Response("ok");
    },
  });
  stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 2, maxLoaded: 2 }, foreman: { webhookAllow: "127.0.0.1" } });
  await waitFor(() => stack.foreman.services.poller.tags, { what: "the poller's first /api/tags" });
  const random = seededRandom("usage sums");
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const words = () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => pick(["alpha", "beta", "gamma", "delta"])).join(" ");
  const limit = () => 1 + Math.floor(random() * 16);
  const headers = (tag: string | undefined): Record<string, string> => ({ "content-type": "application/json", "user-agent": UA, ...(tag ? { "x-foreman-tag": tag } : {}) });

  // async jobs, submitted at once: native, OpenAI and Anthropic endpoints, embeddings among them
  const submissions = Array.from({ length: JOBS / 2 }, (_, i) => {
    const model = pick(MODELS);
    const tag = pick(TAGS);
    const kind = pick(["chat", "generate", "openai", "anthropic", "responses", "embed"] as const);
    const request =
      kind === "chat"
        ? { endpoint: "/api/chat", request: { model, messages: [{ role: "user", content: words() }], options: { num_predict: limit() } } }
        : kind === "generate"
          ? { endpoint: "/api/generate", request: { model, prompt: words(), options: { num_predict: limit() } } }
          : kind === "openai"
            ? { endpoint: "/v1/chat/completions", request: { model, messages: [{ role: "user", content: words() }], max_tokens: limit() } }
            : kind === "anthropic"
              ? { endpoint: "/v1/messages", request: { model, messages: [{ role: "user", content: words() }], max_tokens: limit() } }
              : kind === "responses"
                ? { endpoint: "/v1/responses", request: { model, input: words(), max_output_tokens: limit() } }
                : { endpoint: "/api/embed", request: { model: "nomic-embed-text", input: words() } };
    const webhook = i === 0 ? { webhook: { url: `http://127.0.0.1:${receiver.port}/hook`, events: ["job.done"] } } : {};
    return { ...request, ...webhook, ...(tag ? { metadata: { tag, n: i } } : {}) };
  });
  for (const s of submissions) {
    const res = await fetch(`${stack.url}/jobs`, { method: "POST", headers: headers(undefined), body: JSON.stringify(s) });
    expect(res.status).toBe(202);
    asyncJobs.push({ id: ((await res.json()) as Job).id, endpoint: s.endpoint });
  }

  // passthrough requests, a few at a time, while the jobs run
  const calls = Array.from({ length: JOBS / 2 }, () => ({ model: pick(MODELS), tag: pick(TAGS), kind: pick(["native-stream", "native-whole", "v1-usage", "v1-bare", "v1-whole"] as const), prompt: words(), limit: limit() }));
  const call = async ({ model, tag, kind, prompt, limit }: (typeof calls)[number]) => {
    const messages = [{ role: "user", content: prompt }];
    if (kind === "native-stream" || kind === "native-whole") {
      const res = await fetch(`${stack.url}/api/chat`, { method: "POST", headers: headers(tag), body: JSON.stringify({ model, messages, stream: kind === "native-stream", options: { num_predict: limit } }) });
      expect(res.status).toBe(200);
      const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as Json);
      const final = lines.at(-1)!;
      expect(final.done).toBe(true);
      counted.push({ model, lane: "interactive", tag: tag ?? null, ...countsOf("/api/chat", final), estimated: false });
      return;
    }
    const stream = kind !== "v1-whole";
    const body = { model, messages, max_tokens: limit, stream, ...(kind === "v1-usage" ? { stream_options: { include_usage: true } } : {}) };
    const res = await fetch(`${stack.url}/v1/chat/completions`, { method: "POST", headers: headers(tag), body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const text = await res.text();
    if (!stream) {
      counted.push({ model, lane: "interactive", tag: tag ?? null, ...countsOf("/v1/chat/completions", JSON.parse(text) as Json), estimated: false });
      return;
    }
    const chunks = sseData(text).filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Json);
    const usage = chunks.find((c) => (c.choices as unknown[]).length === 0 && c.usage);
    if (kind === "v1-usage") {
      counted.push({ model, lane: "interactive", tag: tag ?? null, ...countsOf("/v1/chat/completions", usage!), estimated: false });
      return;
    }
    expect(usage).toBeUndefined();
    // no counts in the reply: what foreman can count is the chunks that carried text
    const output = chunks.filter((c) => (obj(obj((c.choices as unknown[])[0]).delta).content as string | undefined) ?? "").length;
    counted.push({ model, lane: "interactive", tag: tag ?? null, prompt: 0, output, estimated: true });
  };
  for (let i = 0; i < calls.length; i += 6) await Promise.all(calls.slice(i, i + 6).map(call));

  for (const { id, endpoint } of asyncJobs) {
    const job = await getJob(stack.url, id, 60);
    expect(job.status).toBe("done");
    const artifact = (await (await fetch(`${stack.url}/jobs/${id}/artifact`)).json()) as Json;
    const tag = typeof job.metadata?.tag === "string" ? job.metadata.tag : null;
    counted.push({ model: endpoint === "/api/embed" ? "nomic-embed-text" : job.model, lane: "async", tag, ...countsOf(endpoint, artifact), estimated: false });
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.stop(true);
});

async function usage(query: string): Promise<UsageReport> {
  const res = await fetch(`${stack.url}/usage?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as UsageReport;
}

/** Sums of `counted` by a key, exact and estimated apart, in the shape of /usage's rows. */
function expected(key: (c: Counted) => string | null) {
  const out = new Map<string, { group: string | null; estimated: boolean; jobs: number; prompt_tokens: number; output_tokens: number }>();
  for (const c of counted) {
    const k = `${key(c)}|${c.estimated}`;
    const row = out.get(k) ?? { group: key(c), estimated: c.estimated, jobs: 0, prompt_tokens: 0, output_tokens: 0 };
    row.jobs++;
    row.prompt_tokens += c.prompt;
    row.output_tokens += c.output;
    out.set(k, row);
  }
  return [...out.values()].sort((a, b) => `${a.group}|${a.estimated}`.localeCompare(`${b.group}|${b.estimated}`));
}

const sumsOf = (report: UsageReport) =>
  report.rows.map(({ group, estimated, jobs, prompt_tokens, output_tokens }) => ({ group, estimated, jobs, prompt_tokens, output_tokens })).sort((a, b) => `${a.group}|${a.estimated}`.localeCompare(`${b.group}|${b.estimated}`));

describe(`GET /usage over ${JOBS} mixed jobs and passthrough requests`, () => {
  test("by model: the sums of the counts the target reported, exactly, estimated work apart", async () => {
    expect(counted).toHaveLength(JOBS);
    expect(counted.filter((c) => c.estimated).length).toBeGreaterThan(0);
    const report = await usage("since=1h&by=model");
    const modelKey = (m: string) => (m.includes(":") ? m : `${m}:latest`);
    expect(sumsOf(report)).toEqual(expected((c) => modelKey(c.model)));
    for (const row of report.rows) for (const ms of [row.load_ms, row.prompt_eval_ms, row.generation_ms, row.target_ms]) expect(Number.isInteger(ms) && ms >= 0).toBe(true);
  });

  test("by lane and by tag: the same totals, split as the work was", async () => {
    expect(sumsOf(await usage("by=lane"))).toEqual(expected((c) => c.lane));
    expect(sumsOf(await usage("by=tag&since=2h"))).toEqual(expected((c) => c.tag));
  });

  test("by client: the caller's address and its User-Agent product", async () => {
    const report = await usage("by=client");
    expect(report.rows.map((r) => r.group?.replace(/^\S+ /, ""))).toEqual(["usage-test", "usage-test"]);
    expect(report.rows.reduce((n, r) => n + r.jobs, 0)).toBe(JOBS);
  });

  test("by endpoint, and whole hours reported back", async () => {
    const report = await usage(`by=endpoint&since=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&until=${encodeURIComponent(new Date().toISOString())}`);
    expect(report.rows.reduce((n, r) => n + r.jobs, 0)).toBe(JOBS);
    expect(new Set(report.rows.map((r) => r.group))).toEqual(new Set(["/api/chat", "/api/generate", "/v1/chat/completions", "/v1/messages", "/v1/responses", "/api/embed"]));
    expect(Date.parse(report.since) % 3_600_000).toBe(0);
    expect(Date.parse(report.until) % 3_600_000).toBe(0);
  });

  test("a span before the work: no rows", async () => {
    expect((await usage("since=2026-01-01T00:00:00Z&until=2026-01-01T05:00:00Z")).rows).toEqual([]);
  });

  test("/metrics: the same tokens in and out by model and lane, and time holding the target", async () => {
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    const total = (name: string) =>
      text
        .split("\n")
        .filter((l) => l.startsWith(`${name}{`))
        .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
    expect(total("foreman_usage_prompt_tokens_total")).toBe(counted.reduce((n, c) => n + c.prompt, 0));
    expect(total("foreman_usage_output_tokens_total")).toBe(counted.reduce((n, c) => n + c.output, 0));
    expect(total("foreman_usage_target_seconds_total")).toBeGreaterThan(0);
    expect(text).toMatch(/^foreman_usage_output_tokens_total\{model="llama3\.2:latest",lane="interactive"\} \d+$/m);
  });

  test("the job view, its job.done event and webhook carry its usage", async () => {
    const { id, endpoint } = asyncJobs[0]!;
    const job = await getJob(stack.url, id);
    const artifact = (await (await fetch(`${stack.url}/jobs/${id}/artifact`)).json()) as Json;
    const { prompt, output } = countsOf(endpoint, artifact);
    expect(job.usage).toMatchObject({ prompt_tokens: prompt, output_tokens: output, estimated: false });
    const events = namedEvents(await (await fetch(`${stack.url}/jobs/${id}/events`)).text().then((t) => t.replace(/^id: \d+\n/gm, "")));
    const done = events.find((e) => e.event === "job.done")!;
    expect(done.data.usage).toEqual(job.usage);
    const hook = await waitFor(() => hooks.find((h) => h.type === "job.done" && h.data.id === id), { what: "the job.done webhook" });
    expect(hook.data.usage).toEqual(job.usage);
  });
});

describe("GET /usage refusals, tags and proxies", () => {
  const start = perTest();

  test("a bad time or grouping is a 400 naming the field; behind the token like /status", async () => {
    const { url } = await start.stack({ foreman: { token: "s3cret" } });
    const auth = { authorization: "Bearer s3cret" };
    expect((await fetch(`${url}/usage`)).status).toBe(401);
    for (const [query, field] of [
      ["since=yesterday", "since"],
      ["until=7y", "until"],
      ["by=planet", "by"],
      ["since=1h&until=2h", "until"],
    ] as const) {
      const res = await fetch(`${url}/usage?${query}`, { headers: auth });
      expect(res.status, query).toBe(400);
      expect(JSON.stringify(await res.json()), query).toContain(field);
    }
    const ok = await fetch(`${url}/usage?since=7d&by=tag`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as UsageReport).rows).toEqual([]);
  });

  test("a bad tag is refused in the caller's dialect, before anything is queued", async () => {
    const { url, foreman } = await start.stack();
    const bad = "x".repeat(65);
    const job = await postJob(url, { request: { model: "llama3.2", prompt: "hi" }, endpoint: "/api/generate", metadata: { tag: bad } });
    expect(job.status).toBe(400);
    expect(JSON.stringify(job.raw)).toContain("/metadata/tag");
    const native = await fetch(`${url}/api/chat`, { method: "POST", headers: { "x-foreman-tag": bad }, body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }) });
    expect(native.status).toBe(400);
    expect(((await native.json()) as { error: string }).error).toStartWith("X-Foreman-Tag: ");
    const openai = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "x-foreman-tag": bad }, body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }) });
    expect(openai.status).toBe(400);
    expect(((await openai.json()) as { error: { message: string } }).error.message).toStartWith("X-Foreman-Tag: ");
    expect(foreman.services.queue.list({ lane: 0, limit: 10 })).toEqual([]);
    expect(foreman.services.queue.list({ lane: 1, limit: 10 })).toEqual([]);
  });

  test("X-Forwarded-For names the client only when the peer is a listed proxy", async () => {
    const plain = await start.stack();
    const proxied = await start.stack({ foreman: { trustedProxies: "127.0.0.1,::1" } });
    const send = (url: string) =>
      fetch(`${url}/api/generate`, { method: "POST", headers: { "x-forwarded-for": "203.0.113.7", "user-agent": "curl/8.5.0" }, body: JSON.stringify({ model: "llama3.2", prompt: "hi", stream: false }) }).then((r) => r.text());
    await send(plain.url);
    await send(proxied.url);
    const clients = async (url: string) => ((await (await fetch(`${url}/usage?by=client`)).json()) as UsageReport).rows.map((r) => r.group);
    expect(await waitFor(() => clients(proxied.url).then((c) => (c.length ? c : null)), { what: "the proxied request's usage" })).toEqual(["203.0.113.7 curl"]);
    const direct = await waitFor(() => clients(plain.url).then((c) => (c.length ? c : null)), { what: "the direct request's usage" });
    expect(direct).toHaveLength(1);
    expect(direct[0]).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1) curl$/);
  });

  test("the rollup outlives the jobs, and goes after FOREMAN_USAGE_RETENTION_HOURS", async () => {
    const dir = tempDir();
    start.defer(() => dir.remove());
    const db = join(dir.path, "foreman.db");
    const day = 86_400_000;
    for (const ago of [400 * day, 2 * day]) {
      const store = openStore(db);
      const queue = new Queue(store.db, () => Date.now() - ago, store.durability);
      new UsageLedger(store.db).install(queue);
      const job = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2" });
      queue.transition(job.id, "working", { attempt: true });
      queue.transition(job.id, "done", { usage: { prompt_tokens: 3, output_tokens: 5, load_ms: 0, prompt_eval_ms: 1, generation_ms: 2, target_ms: 4, estimated: false } });
      store.close();
    }
    const foreman = await start.foreman({ target: "http://127.0.0.1:9", db, retentionHours: 24 });
    await waitFor(() => foreman.services.queue.list({ lane: ASYNC, limit: 10 }).length === 0, { what: "job retention to prune both jobs" });
    const jobs = async (since: string) => ((await (await fetch(`${foreman.url}/usage?since=${since}`)).json()) as UsageReport).rows.reduce((n, r) => n + r.jobs, 0);
    // the job of 400 days ago is past the default year; the one of two days ago outlives its job
    await waitFor(async () => (await jobs("60w")) === 1, { what: "usage retention to drop the buckets of 400 days ago" });
    expect(await jobs("1w")).toBe(1);
  });
});

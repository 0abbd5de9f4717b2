// Transparent passthrough. Inference requests (chat, generate, embeddings, /v1) wait in the
// interactive lane of the queue and are sent by the worker; everything else goes straight to
// the target. Either way the body goes out unchanged and the reply comes back as the target
// sent it — status, content type, each NDJSON line or SSE event as soon as it arrives.
import { kindOf } from "../../jobs/index.ts";
import { dialectOf, errorResponse, HttpError, type Dialect } from "../http/errors.ts";
import { errorMessage, type Outcome } from "../engine/reply.ts";
import { INTERACTIVE } from "../queue/queue.ts";
import { defineRoute, readBody, type RouteContext, type RouteDef } from "../http/route.ts";
import { TargetTimeout, TargetUnreachable } from "../target/client.ts";

/** Ollama's own queue-full message (two spaces after the first period). */
export const BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded";

const SMALL_REPLY_BYTES = 64 * 1024;

const RESPONSE_HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"];

function replyHeaders(res: Response, extra: Record<string, string> = {}): Headers {
  const headers = new Headers(res.headers);
  for (const h of RESPONSE_HOP_BY_HOP) headers.delete(h);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return headers;
}

/** The model named by a request body; foreman needs it to schedule, the body itself stays as sent. */
function modelOf(body: Uint8Array): string {
  if (body.byteLength === 0) throw new HttpError(400, "missing request body");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  const model = (parsed as { model?: unknown } | null)?.model;
  if (typeof model !== "string" || model.trim() === "") throw new HttpError(400, "model is required", "/model");
  return model;
}

const ms = (n: number) => Math.max(0, Math.round(n * 10) / 10);

/** Tokens the target reports at the end of a reply (native `eval_count`, OpenAI `completion_tokens`). */
export function reportedTokens(tail: string): number {
  const native = [...tail.matchAll(/"eval_count":(\d+)/g)].at(-1);
  const openai = [...tail.matchAll(/"completion_tokens":(\d+)/g)].at(-1);
  return Number((native ?? openai)?.[1] ?? 0);
}

const TAIL_BYTES = 4096;

/**
 * Streams `res` to the caller, chunk by chunk as it arrives. Resolves once the caller has
 * everything (or went away, or the target went silent for `idleMs`); the worker holds the
 * target for exactly that long.
 */
function relay(res: Response, idleMs: number, serverTiming: string): { response: Response; finished: Promise<Outcome | { kind: "gone" }> } {
  const { promise, resolve } = Promise.withResolvers<Outcome | { kind: "gone" }>();
  const headers = replyHeaders(res, { "server-timing": serverTiming });
  if (!res.body) {
    resolve(res.ok ? { kind: "done", artifact: { contentType: "", body: "" }, chunks: 0, tokens: 0 } : { kind: "error", status: res.status, message: res.statusText });
    return { response: new Response(null, { status: res.status, headers }), finished: promise };
  }
  const reader = res.body.getReader();
  const ndjson = /x-ndjson/.test(res.headers.get("content-type") ?? "");
  const decoder = new TextDecoder();
  let tail = "";
  let chunks = 0;
  let idle = false;
  const timer = setTimeout(() => {
    idle = true;
    reader.cancel().catch(() => {});
  }, idleMs);
  // a broken stream ends the way Ollama ends one: an {"error"} line and no done
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, status: number, message: string) => {
    clearTimeout(timer);
    if (ndjson) controller.enqueue(new TextEncoder().encode(JSON.stringify({ error: message }) + "\n"));
    controller.close();
    resolve({ kind: "error", status, message });
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (idle) return fail(controller, 504, `the target went silent for ${idleMs} ms mid-stream`);
        if (done) {
          clearTimeout(timer);
          controller.close();
          resolve(res.ok ? { kind: "done", artifact: { contentType: "", body: "" }, chunks, tokens: reportedTokens(tail) } : { kind: "error", status: res.status, message: errorMessage(tail) });
          return;
        }
        timer.refresh();
        chunks++;
        tail = (tail + decoder.decode(value, { stream: true })).slice(-TAIL_BYTES);
        controller.enqueue(value);
      } catch (err) {
        fail(controller, 502, `the target dropped the connection mid-stream: ${(err as Error).message}`);
      }
    },
    cancel() {
      clearTimeout(timer);
      reader.cancel().catch(() => {});
      resolve({ kind: "gone" });
    },
  });
  return { response: new Response(body, { status: res.status, headers }), finished: promise };
}

function busy(dialect: Dialect, why: string): Response {
  return errorResponse(dialect, 503, dialect === "ollama" ? BUSY_MESSAGE : `${BUSY_MESSAGE} (${why})`);
}

/** A queued passthrough route for one inference endpoint. */
export function queuedPassthrough(endpoint: string): RouteDef {
  const kind = kindOf(endpoint);
  if (!kind) throw new Error(`no job kind for ${endpoint}`);
  return defineRoute({
    summary: `${endpoint}, forwarded to the target through the queue (interactive lane)`,
    tags: ["passthrough"],
    responses: { 200: { description: "the target's reply, streamed as it arrives" } },
    handle: async ({ request, services }: RouteContext<undefined, undefined>) => {
      const startedAt = Date.now();
      const dialect = dialectOf(endpoint);
      const body = await readBody(request, services.config.maxBodyBytes);
      const model = modelOf(body);
      const { queue, worker, config } = services;
      const waiting = queue.waitingInteractive();
      if (waiting >= config.interactiveMaxWaiting) return busy(dialect, `${waiting} requests already waiting`);
      const job = queue.enqueue({ lane: INTERACTIVE, endpoint, model });
      const enqueuedAt = Date.now();
      const { promise, resolve } = Promise.withResolvers<Response>();
      let settled = false;
      const settle = (r: Response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const giveUp = (status: "failed" | "canceled", reason: string) => {
        worker.detach(job.id);
        if (queue.get(job.id)?.status === "queued") queue.transition(job.id, status, status === "failed" ? { error: { status: 503, message: reason } } : { data: { reason } });
      };
      const timer = setTimeout(() => {
        // only a request still in the queue gives up; one the worker has taken gets its reply
        if (queue.get(job.id)?.status !== "queued") return;
        giveUp("failed", `waited ${config.interactiveMaxWaitMs} ms in the queue`);
        settle(busy(dialect, `waited ${config.interactiveMaxWaitMs} ms in the queue`));
      }, config.interactiveMaxWaitMs);
      request.signal.addEventListener("abort", () => {
        giveUp("canceled", "the caller went away while queued");
        settle(new Response(null, { status: 499 }));
      }, { once: true });
      worker.attach(job.id, {
        path: endpoint,
        body,
        headers: request.headers,
        signal: request.signal,
        deliver: async (res) => {
          worker.detach(job.id);
          if (settled) {
            // the caller is already gone: nobody will read this reply, so do not hold the target for it
            await res.body?.cancel().catch(() => {});
            return { kind: "gone" };
          }
          const dispatched = queue.get(job.id)?.startedAt ?? Date.now();
          const now = Date.now();
          const timing = `queue;dur=${ms(dispatched - enqueuedAt)}, target;dur=${ms(now - dispatched)};desc="until first byte", foreman;dur=${ms(enqueuedAt - startedAt)}`;
          const { response, finished } = relay(res, config.idleTimeoutMs, timing);
          settle(response);
          return finished;
        },
        fail: (status: number, message: string) => settle(errorResponse(dialect, status, message)),
      });
      worker.wake();
      return promise;
    },
  });
}

interface Reply {
  status: number;
  headers: Headers;
  body: ArrayBuffer;
}

/** Identical metadata GETs in flight at the same moment share one request to the target. */
const inFlight = new Map<string, Promise<Reply>>();

function coalesced(key: string, fetchReply: () => Promise<Reply>): Promise<Reply> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = fetchReply().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

/**
 * Metadata and model management: straight to the target, not queued. `coalesce` is for
 * idempotent metadata GETs whose replies are one small JSON document (tags, ps, version,
 * models): concurrent identical requests then share one upstream request, and every caller
 * still gets an answer the target gave after its request arrived (ADR 0008).
 */
export function directPassthrough(path?: string, opts: { cached?: "tags" | "models"; coalesce?: boolean } = {}): RouteDef {
  return defineRoute({
    summary: `${path ?? "target route"}, forwarded to the target directly (not queued)`,
    tags: ["passthrough"],
    handle: async ({ request, url, services }: RouteContext<undefined, undefined>) => {
      const started = performance.now();
      const { target, poller } = services;
      const targetPath = url.pathname + url.search;
      const timing = (sent: number, answered: number) => `target;dur=${ms(answered - sent)}, foreman;dur=${ms(sent - started)}`;
      const hasBody = request.method !== "GET" && request.method !== "HEAD";
      try {
        if (opts.coalesce && request.method === "GET") {
          const sent = performance.now();
          const reply = await coalesced(targetPath, async () => {
            const res = await target.send(targetPath, { method: "GET", headers: target.headers(), timeoutMs: services.config.firstByteTimeoutMs });
            return { status: res.status, headers: replyHeaders(res), body: await res.arrayBuffer() };
          });
          const headers = new Headers(reply.headers);
          headers.set("server-timing", timing(sent, performance.now()));
          return new Response(reply.body, { status: reply.status, headers });
        }
        const body = hasBody ? await readBody(request, services.config.maxBodyBytes) : null;
        const sent = performance.now();
        const res = await target.send(targetPath, {
          method: request.method,
          body,
          headers: target.headers(request.headers),
          signal: request.signal,
          timeoutMs: services.config.firstByteTimeoutMs,
        });
        // a complete small reply (Ollama sends Content-Length when the body fit its buffer) is
        // copied in one piece; anything else, progress streams included, is relayed as it comes
        const answered = performance.now();
        const length = Number(res.headers.get("content-length") ?? NaN);
        const replyBody = length <= SMALL_REPLY_BYTES ? await res.arrayBuffer() : res.body;
        return new Response(replyBody, { status: res.status, headers: replyHeaders(res, { "server-timing": timing(sent, answered) }) });
      } catch (err) {
        if (!(err instanceof TargetUnreachable || err instanceof TargetTimeout)) throw err;
        // a slow answer (/api/ps waits for loads) is not a target that is down
        if (err instanceof TargetUnreachable) poller.markDown(err.message);
        const cached = opts.cached && poller.tags ? fromCache(opts.cached, poller.tags.text, poller.tags.at, url.pathname) : null;
        if (cached) return cached;
        throw new HttpError(503, `the target is unreachable (${(err as Error).message}); try again later`);
      }
    },
  });
}

/** /api/tags or /v1/models answered from the poller's last good /api/tags. */
function fromCache(kind: "tags" | "models", tagsText: string, at: number, pathname: string): Response | null {
  const headers = { "x-foreman-cache": `stale; copied-at=${new Date(at).toISOString()}` };
  if (kind === "tags") return new Response(tagsText, { status: 200, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
  const models = ((JSON.parse(tagsText) as { models?: { name: string; modified_at?: string }[] }).models ?? []).map((m) => ({
    id: m.name,
    object: "model",
    created: Math.floor(Date.parse(m.modified_at ?? "") / 1000) || 0,
    owned_by: m.name.includes("/") ? m.name.split("/")[0] : "library",
  }));
  if (pathname === "/v1/models") return new Response(JSON.stringify({ object: "list", data: models.length ? models : null }), { status: 200, headers: { "content-type": "application/json", ...headers } });
  const id = decodeURIComponent(pathname.slice("/v1/models/".length));
  const found = models.find((m) => m.id === id || m.id === `${id}:latest`);
  if (!found) return null;
  return new Response(JSON.stringify({ ...found, id }), { status: 200, headers: { "content-type": "application/json", ...headers } });
}

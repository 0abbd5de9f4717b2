// POST /api/chat and /api/generate: validation in Ollama's order, load/unload
// replies (§5.3), then NDJSON chunks or one JSON object (§2.1).

import { decodeBody, expectField, stringField, type JsonObject } from "./body.ts";
import { utcStamp } from "./clock.ts";
import type { SimContext } from "./context.ts";
import { parseKeepAlive } from "./duration.ts";
import { SimError } from "./errors.ts";
import { json, NDJSON, ndjsonLine } from "./http.ts";
import { begin, loadOnly, type Metrics, type Plan, type Session } from "./inference.ts";
import { countTokens, tokenIds } from "./output.ts";
import { chatInput, limitOf, lookup, optionsOf, requireCompletion, requireThinking, seedOf, thinkOf, wantOf } from "./request.ts";
import type { Want } from "./scheduler.ts";
import { renderSession, type Framing } from "./render.ts";
import type { Call } from "./router.ts";

/** How one endpoint shapes its chunks; everything else is shared. */
interface Shape {
  chunk(model: string, text: string): JsonObject;
  final(model: string, text: string, session: Session): JsonObject;
  load(model: string, reason: "load" | "unload"): JsonObject;
}

/** Metrics with zeros omitted, in Ollama's key order. */
export function metricFields(metrics: Metrics): JsonObject {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => v !== 0));
}

const chatShape: Shape = {
  chunk: (model, content) => ({ model, created_at: utcStamp(), message: { role: "assistant", content }, done: false }),
  final: (model, content, session) => ({
    model,
    created_at: utcStamp(),
    message: { role: "assistant", content },
    done: true,
    done_reason: session.doneReason,
    ...metricFields(session.metrics()),
  }),
  load: (model, reason) => ({ model, created_at: utcStamp(), message: { role: "assistant", content: "" }, done: true, done_reason: reason }),
};

function generateShape(raw: boolean): Shape {
  return {
    chunk: (model, response) => ({ model, created_at: utcStamp(), response, done: false }),
    final: (model, response, session) => ({
      model,
      created_at: utcStamp(),
      response,
      done: true,
      done_reason: session.doneReason,
      ...(raw ? {} : { context: [...tokenIds(session.plan.input), ...tokenIds(session.tokens.join(""))] }),
      ...metricFields(session.metrics()),
    }),
    load: (model, reason) => ({ model, created_at: utcStamp(), response: "", done: true, done_reason: reason }),
  };
}

/** The native dialect: NDJSON lines, `{"error"}` on a break (§3.3). */
function framing(shape: Shape, model: string): Framing {
  return {
    contentType: NDJSON,
    chunk: (token) => ndjsonLine(shape.chunk(model, token)),
    tail: (session) => [ndjsonLine(shape.final(model, "", session))],
    broken: (message) => ndjsonLine({ error: message }),
    whole: (text, session) => json(shape.final(model, text, session)),
  };
}

interface Common {
  model: string;
  streaming: boolean;
  keepAlive: ReturnType<typeof parseKeepAlive>;
  options: JsonObject;
  think: boolean;
  shift: boolean | undefined;
}

function common(body: JsonObject, structName: string): Common {
  expectField(body, structName, "model", "string");
  expectField(body, structName, "stream", "bool");
  expectField(body, structName, "shift", "bool", "*bool");
  return {
    model: stringField(body, "model"),
    streaming: body.stream !== false,
    keepAlive: parseKeepAlive(body.keep_alive),
    options: optionsOf(body, structName),
    think: thinkOf(body.think),
    shift: typeof body.shift === "boolean" ? body.shift : undefined,
  };
}

/** Empty-request handling shared by chat and generate: unload, load, or the runner wanted to go on. */
async function loadOrUnload(ctx: SimContext, call: Call, c: Common, empty: boolean, shape: Shape, verb: "chat" | "generate"): Promise<Response | Want> {
  if (empty && c.keepAlive === 0) {
    ctx.scheduler.unload(lookup(ctx.catalogue, c.model, "single"));
    return json(shape.load(c.model, "unload"));
  }
  const entry = lookup(ctx.catalogue, c.model, "single");
  requireCompletion(entry, c.model, verb);
  requireThinking(entry, c.model, c.think);
  const want = wantOf(entry, c.keepAlive, c.options, c.shift);
  if (!empty) return want;
  await loadOnly(ctx, want, call.signal);
  return json(shape.load(c.model, "load"));
}

export async function chat(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "ChatRequest");
  expectField(body, "ChatRequest", "messages", "array", "[]api.Message");
  const c = common(body, "ChatRequest");
  if (c.model === "") throw new SimError(400, "model is required");
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  const want = await loadOrUnload(ctx, call, c, messages.length === 0, chatShape, "chat");
  if (want instanceof Response) return want;
  const { input, promptTokens } = chatInput(messages);
  const plan: Plan = {
    ...want,
    input,
    promptTokens,
    limit: limitOf(c.options.num_predict),
    seed: seedOf(c.options.seed, ctx.settings.seed),
  };
  return renderSession(await begin(ctx, plan, call.signal), framing(chatShape, c.model), c.streaming, call);
}

export async function generate(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "GenerateRequest");
  expectField(body, "GenerateRequest", "prompt", "string");
  expectField(body, "GenerateRequest", "raw", "bool");
  const c = common(body, "GenerateRequest");
  const raw = body.raw === true;
  if (c.model === "") throw new SimError(404, "model '' not found");
  const system = stringField(body, "system");
  const context = Array.isArray(body.context) ? body.context.join(" ") : "";
  if (raw && (system !== "" || stringField(body, "template") !== "" || context !== "")) {
    throw new SimError(400, "raw mode does not support template, system, or context");
  }
  const prompt = stringField(body, "prompt");
  const shape = generateShape(raw);
  const want = await loadOrUnload(ctx, call, c, prompt === "", shape, "generate");
  if (want instanceof Response) return want;
  const plan: Plan = {
    ...want,
    input: `${context}\u0000${system}\u0000${prompt}`,
    promptTokens: countTokens(`${system} ${prompt}`) + (raw ? 0 : 8),
    limit: limitOf(c.options.num_predict),
    seed: seedOf(c.options.seed, ctx.settings.seed),
  };
  return renderSession(await begin(ctx, plan, call.signal), framing(shape, c.model), c.streaming, call);
}

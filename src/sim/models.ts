// Metadata and model-management routes: /, version, tags, ps, show, copy,
// delete, pull, push, and the progress streams pull, push and create share.
// None of them queue behind inference (except ps during loads).

import { decodeBody, expectField, stringField, type JsonObject } from "./body.ts";
import { entryFromSpec, PULLABLE, psEntry, renamed, showReply, tagsEntry, type Layer, type ModelEntry } from "./catalogue.ts";
import { nowNs, sleep } from "./clock.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { goMap } from "./gojson.ts";
import { empty, json, JSON_PLAIN, NDJSON, ndjsonLine, stream, text } from "./http.ts";
import { displayName, nameKey, parseName } from "./names.ts";
import type { Call } from "./context.ts";

export const root = (): Response => text("Ollama is running");

export const version = (ctx: SimContext): Response => json({ version: ctx.settings.version });

export const tags = (ctx: SimContext): Response => json({ models: ctx.catalogue.list().map(tagsEntry) });

export async function ps(ctx: SimContext): Promise<Response> {
  const rows = await ctx.scheduler.ps();
  return json({ models: rows.map((r) => psEntry(r.entry, r.expiresNs, r.contextLength)) });
}

/** `model`, falling back to the legacy `name` field. */
export function modelField(body: Record<string, unknown>, structName: string): string {
  expectField(body, structName, "model", "string");
  expectField(body, structName, "name", "string");
  return stringField(body, "model") || stringField(body, "name");
}

export async function show(ctx: SimContext, req: Request): Promise<Response> {
  const model = modelField(decodeBody(await req.text(), "ShowRequest"), "ShowRequest");
  if (model === "") throw new SimError(400, "model is required");
  const name = parseName(model);
  if (!name) throw new SimError(400, "invalid model name");
  const entry = ctx.catalogue.find(model);
  if (!entry) throw new SimError(404, `model '${displayName(name)}' not found`);
  return json(showReply(entry));
}

export async function copy(ctx: SimContext, req: Request): Promise<Response> {
  const body = decodeBody(await req.text(), "CopyRequest");
  const source = stringField(body, "source");
  const destination = stringField(body, "destination");
  if (!parseName(source)) throw new SimError(400, `source ${JSON.stringify(source)} is invalid`);
  const dest = parseName(destination);
  if (!dest) throw new SimError(400, `destination ${JSON.stringify(destination)} is invalid`);
  const entry = ctx.catalogue.find(source);
  if (!entry) throw new SimError(404, `model ${JSON.stringify(source)} not found`);
  ctx.catalogue.add(renamed(entry, dest));
  return empty();
}

export async function remove(ctx: SimContext, req: Request): Promise<Response> {
  const model = modelField(decodeBody(await req.text(), "DeleteRequest"), "DeleteRequest");
  if (model === "") throw new SimError(400, "model is required");
  if (!parseName(model)) throw new SimError(400, `name ${JSON.stringify(model)} is invalid`);
  const entry = ctx.catalogue.find(model);
  if (!entry) throw new SimError(404, `model '${model}' not found`);
  ctx.catalogue.remove(entry.key);
  ctx.scheduler.forget(entry.key);
  return empty();
}

/** One step of a progress stream: a progress object, or an error with the status it carries (500 by default). */
export type Step = JsonObject | { error: string; status?: number };

const isError = (step: Step): step is { error: string; status?: number } => typeof step.error === "string";

/** Where Ollama keeps models (OLLAMA_MODELS); it shows up in some error texts. */
export const MODELS_DIR = "/root/.ollama/models";

/**
 * Progress as streamResponse / waitForStream write it (§1.7): NDJSON lines
 * spaced by the token delay, or (stream:false) only the last object. An
 * error ends the stream: before the first line it is the reply, with its
 * status; after, one more `{"error"}` line. `finish` runs before the final
 * step leaves, so a client that sees "success" finds the model in place.
 */
export async function progressReply(ctx: SimContext, steps: Step[], streaming: boolean, call: Call, finish: () => void): Promise<Response> {
  const failure = steps.find(isError);
  const errorReply = (e: { error: string; status?: number }): Response => json(goMap({ error: e.error }), e.status ?? 500, JSON_PLAIN);
  if (!streaming) {
    for (const _ of steps) await sleep(ctx.settings.tokenDelayMs, call.signal);
    if (failure) return errorReply(failure);
    finish();
    return json(steps.at(-1) ?? {}, 200, JSON_PLAIN);
  }
  const first = steps[0];
  if (first && isError(first)) return errorReply(first);
  async function* lines(): AsyncGenerator<string> {
    for (const [i, step] of steps.entries()) {
      if (i > 0) await sleep(ctx.settings.tokenDelayMs, call.signal);
      if (isError(step)) {
        yield ndjsonLine(goMap({ error: step.error }));
        return;
      }
      if (i === steps.length - 1) finish();
      yield ndjsonLine(step);
    }
  }
  return stream(lines(), NDJSON, call.cancel);
}

/** A layer's transfer as `verb <12 hex>` progress: started (completed omitted while 0), half, done. */
function transfer(verb: string, layers: Layer[]): Step[] {
  return layers.flatMap((layer) => {
    const status = `${verb} ${layer.digest.slice(0, 12)}`;
    const digest = `sha256:${layer.digest}`;
    return [0, 0.5, 1].map((part) => {
      const completed = Math.round(layer.size * part);
      return completed === 0 ? { status, digest, total: layer.size } : { status, digest, total: layer.size, completed };
    });
  });
}

/** The progress objects of a successful pull, in Ollama's order (§1.7). */
export function pullProgress(layers: Layer[]): Step[] {
  return [
    { status: "pulling manifest" },
    ...transfer("pulling", layers),
    { status: "verifying sha256 digest" },
    { status: "writing manifest" },
    { status: "removing unused layers" },
    { status: "success" },
  ];
}

/** A registry model by name: what pull (and create from a missing base) can fetch. */
export const pullable = (key: string): ModelEntry | undefined => PULLABLE.map((s) => entryFromSpec(s, nowNs())).find((e) => e.key === key);

/** Models the registry serves only to a newer Ollama: pulling one is a 412 (§11). */
export const NEEDS_NEWER_OLLAMA = new Set(["registry.ollama.ai/library/llama5:latest"]);

/** The registry's answer to a pull of such a model, which Ollama passes on with the 412. */
export const NEWER_OLLAMA_MESSAGE =
  "pull model manifest: 412: \n\nThe model you are attempting to pull requires a newer version of Ollama.\n\nPlease download the latest version at:\n\n\thttps://ollama.com/download\n\n";

export async function pull(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "PullRequest");
  const model = modelField(body, "PullRequest");
  expectField(body, "PullRequest", "stream", "bool");
  const name = parseName(model);
  if (!name) throw new SimError(400, "invalid model name");
  if (NEEDS_NEWER_OLLAMA.has(nameKey(name))) return progressReply(ctx, [{ error: NEWER_OLLAMA_MESSAGE, status: 412 }], body.stream !== false, call, () => {});
  const found = ctx.catalogue.find(model) ?? pullable(nameKey(name));
  const steps = found ? pullProgress(found.layers) : [{ status: "pulling manifest" }, { error: "pull model manifest: file does not exist" }];
  return progressReply(ctx, steps, body.stream !== false, call, () => {
    if (found) ctx.catalogue.add(renamed(found, name));
  });
}

export async function push(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "PushRequest");
  const model = modelField(body, "PushRequest");
  expectField(body, "PushRequest", "stream", "bool");
  expectField(body, "PushRequest", "insecure", "bool");
  if (model === "") throw new SimError(400, "model is required");
  const name = parseName(model);
  const entry = ctx.catalogue.find(model);
  const missing = name
    ? `open ${MODELS_DIR}/manifests/${name.host}/${name.namespace}/${name.model}/${name.tag}: no such file or directory`
    : "invalid model name";
  const steps: Step[] = entry
    ? [{ status: "retrieving manifest" }, ...transfer("pushing", entry.layers), { status: "pushing manifest" }, { status: "success" }]
    : [{ status: "retrieving manifest" }, { status: "couldn't retrieve manifest" }, { error: missing }];
  return progressReply(ctx, steps, body.stream !== false, call, () => {});
}

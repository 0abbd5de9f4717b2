// Metadata and model-management routes: /, version, tags, ps, show, copy,
// delete, pull. None of them queue behind inference (except ps during loads).

import { decodeBody, expectField, stringField } from "./body.ts";
import { entryFromSpec, PULLABLE, psEntry, sha256Hex, showReply, tagsEntry } from "./catalogue.ts";
import { nowNs, sleep } from "./clock.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { empty, json, JSON_PLAIN, NDJSON, ndjsonLine, stream, text } from "./http.ts";
import { displayName, nameKey, parseName } from "./names.ts";
import type { Call } from "./router.ts";

export const root = (): Response => text("Ollama is running");

export const version = (ctx: SimContext): Response => json({ version: ctx.settings.version });

export const tags = (ctx: SimContext): Response => json({ models: ctx.catalogue.list().map(tagsEntry) });

export async function ps(ctx: SimContext): Promise<Response> {
  const rows = await ctx.scheduler.ps();
  return json({ models: rows.map((r) => psEntry(r.entry, r.expiresNs, r.contextLength)) });
}

/** `model`, falling back to the legacy `name` field. */
function modelField(body: Record<string, unknown>, structName: string): string {
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
  ctx.catalogue.add({ ...entry, key: nameKey(dest), name: dest, display: displayName(dest), modifiedNs: nowNs() });
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

/** The progress objects of a successful pull, in Ollama's order (§1.7). */
export function pullProgress(key: string, size: number): Array<Record<string, unknown>> {
  const layers = [
    { digest: sha256Hex(`weights:${key}`), total: size },
    { digest: sha256Hex(`template:${key}`), total: 1429 },
    { digest: sha256Hex(`params:${key}`), total: 487 },
  ];
  const steps: Array<Record<string, unknown>> = [{ status: "pulling manifest" }];
  for (const layer of layers) {
    const status = `pulling ${layer.digest.slice(0, 12)}`;
    const digest = `sha256:${layer.digest}`;
    for (const part of [0, 0.5, 1]) {
      const completed = Math.round(layer.total * part);
      steps.push(completed === 0 ? { status, digest, total: layer.total } : { status, digest, total: layer.total, completed });
    }
  }
  steps.push({ status: "verifying sha256 digest" }, { status: "writing manifest" }, { status: "removing unused layers" }, { status: "success" });
  return steps;
}

export async function pull(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "PullRequest");
  const model = modelField(body, "PullRequest");
  expectField(body, "PullRequest", "stream", "bool");
  const name = parseName(model);
  if (!name) throw new SimError(400, "invalid model name");
  const key = nameKey(name);
  const spec = ctx.catalogue.find(model) ?? PULLABLE.map((s) => entryFromSpec(s, nowNs())).find((e) => e.key === key);
  const steps: Array<Record<string, unknown>> = spec
    ? pullProgress(key, spec.size)
    : [{ status: "pulling manifest" }, { error: "pull model manifest: file does not exist" }];
  const finish = (): void => {
    if (spec) ctx.catalogue.add({ ...spec, key, name, display: displayName(name), modifiedNs: nowNs() });
  };
  if (body.stream === false) {
    for (const _ of steps) await sleep(ctx.settings.tokenDelayMs, call.signal);
    const last = steps[steps.length - 1] ?? {};
    finish();
    return json(last, "error" in last ? 500 : 200, JSON_PLAIN);
  }
  async function* lines(): AsyncGenerator<string> {
    for (const [i, step] of steps.entries()) {
      if (i > 0) await sleep(ctx.settings.tokenDelayMs, call.signal);
      yield ndjsonLine(step);
    }
    finish();
  }
  return stream(lines(), NDJSON, call.cancel);
}

// POST /api/create as Ollama runs it (server/create.go): checks before the
// stream (400), then progress — the base model's layers (pulled first if
// missing), an optional quantization, the new template/system/license/
// parameters/messages layers, "writing manifest", "success" — after which the
// model is in /api/tags. `files` name blobs uploaded to /api/blobs; they are
// taken as GGUF weights (the simulator cannot read them).

import { asObject, decodeBody, expectField, stringField, type JsonObject } from "./body.ts";
import { entryFromSpec, MEDIA, renamed, sha256Hex, type Layer, type ModelEntry } from "./catalogue.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { goJson, goMap } from "./gojson.ts";
import { modelField, MODELS_DIR, progressReply, pullable, pullProgress, type Step } from "./models.ts";
import { nameKey, parseName, type ModelName } from "./names.ts";
import type { Call } from "./context.ts";

const QUANTIZE_TO = ["F32", "F16", "Q8_0", "Q4_K_S", "Q4_K_M", "Q4_K", "BF16"];

/** io/fs.ValidPath: unrooted, slash-separated, no empty, "." or ".." elements. */
const validPath = (path: string): boolean => path === "." || (path !== "" && path.split("/").every((e) => e !== "" && e !== "." && e !== ".."));

/** A layer made from `content` (NewLayer): new unless that blob already exists. */
function contentLayer(ctx: SimContext, mediaType: string, content: string): { layer: Layer; status: string } {
  const digest = sha256Hex(content);
  const status = ctx.catalogue.blobSize(`sha256:${digest}`) === undefined ? "creating new layer" : "using existing layer";
  return { layer: { mediaType, digest, size: Buffer.byteLength(content) }, status: `${status} sha256:${digest}` };
}

const existing = (layer: Layer): { layer: Layer; status: string } => ({ layer, status: `using existing layer sha256:${layer.digest}` });

/** The base: a local model, one pulled for the occasion, or the uploaded GGUF files. */
function baseOf(ctx: SimContext, body: JsonObject, name: ModelName): { steps: Step[]; base?: ModelEntry } {
  const from = stringField(body, "from");
  if (from !== "") {
    const fromName = parseName(from);
    if (!fromName) return { steps: [{ error: "invalid model name", status: 400 }] };
    const local = ctx.catalogue.find(from);
    if (local) return { steps: [], base: local };
    const remote = pullable(nameKey(fromName));
    if (!remote) return { steps: [{ status: "pulling manifest" }, { error: "pull model manifest: file does not exist" }] };
    return { steps: pullProgress(remote.layers), base: remote };
  }
  const files = Object.entries(asObject(body.files));
  if (files.length === 0) return { steps: [{ error: "neither 'from' or 'files' was specified", status: 400 }] };
  const steps: Step[] = [];
  const layers: Layer[] = [];
  for (const [, digest] of files.sort(([a], [b]) => (a < b ? -1 : 1))) {
    steps.push({ status: "parsing GGUF" });
    const size = ctx.catalogue.blobSize(String(digest));
    if (size === undefined) return { steps: [...steps, { error: `open ${MODELS_DIR}/blobs/${String(digest).replace(":", "-")}: no such file or directory` }] };
    layers.push({ mediaType: MEDIA.model, digest: String(digest).slice(7).toLowerCase(), size });
  }
  const size = layers.reduce((n, l) => n + l.size, 0);
  const base = entryFromSpec({ name: nameKey(name), quantization: "F16", size, contextLength: 4096, capabilities: ["completion"] }, 0n);
  return { steps, base: { ...base, layers } };
}

export async function create(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "CreateRequest");
  for (const field of ["from", "template", "system", "quantize"]) expectField(body, "CreateRequest", field, "string");
  expectField(body, "CreateRequest", "stream", "bool");
  expectField(body, "CreateRequest", "files", "object", "map[string]string");
  expectField(body, "CreateRequest", "parameters", "object", "map[string]interface {}");
  expectField(body, "CreateRequest", "messages", "array", "[]api.Message");
  for (const [path, digest] of Object.entries(asObject(body.files))) {
    if (!validPath(path)) throw new SimError(400, "file path must be relative");
    if (digest === "") throw new SimError(400, "invalid digest format");
  }
  for (const digest of Object.values(asObject(body.adapters))) if (digest === "") throw new SimError(400, "invalid digest format");
  const name = parseName(modelField(body, "CreateRequest"));
  if (!name) throw new SimError(400, "invalid model name");

  const streaming = body.stream !== false;
  const { steps, base } = baseOf(ctx, body, name);
  const fail = (error: string): Promise<Response> => progressReply(ctx, [...steps, { error }], streaming, call, () => {});
  if (!base) return progressReply(ctx, steps, streaming, call, () => {});
  let layers = base.layers.filter((l) => l.mediaType !== MEDIA.config).map(existing);
  let quantization = base.quantization;
  const quantize = stringField(body, "quantize").toUpperCase();
  if (quantize !== "") {
    if (!QUANTIZE_TO.includes(quantize)) return fail(`unsupported quantization type ${quantize} - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0`);
    if (!["F16", "BF16", "F32"].includes(base.quantization)) return fail("quantization is only supported for F16, BF16 and F32 models");
    if (quantize !== base.quantization) {
      const weights = layers.find((l) => l.layer.mediaType === MEDIA.model)?.layer;
      const size = weights?.size ?? 0;
      for (const part of [0.5, 1]) steps.push({ status: `quantizing ${base.quantization} model to ${quantize}`, digest: "0000000000000000000", total: size, completed: Math.round(size * part) });
      steps.push({ status: "verifying conversion" });
      const quantized = contentLayer(ctx, MEDIA.model, `${weights?.digest}:${quantize}`);
      layers = layers.map((l) => (l.layer === weights ? { ...quantized, layer: { ...quantized.layer, size: Math.round(size * 0.3) } } : l));
      quantization = quantize === "Q4_K" ? "Q4_K_M" : quantize;
    }
  }
  const replace = (mediaType: string, content: string): void => {
    layers = [...layers.filter((l) => l.layer.mediaType !== mediaType), contentLayer(ctx, mediaType, content)];
  };
  const template = stringField(body, "template");
  if (template !== "") replace(MEDIA.template, template);
  const system = stringField(body, "system");
  if (system !== "") replace(MEDIA.system, system);
  const licenses = typeof body.license === "string" ? [body.license].filter((l) => l !== "") : Array.isArray(body.license) ? body.license.map(String) : [];
  for (const license of licenses) layers.push(contentLayer(ctx, MEDIA.license, license));
  const parameters = asObject(body.parameters);
  if (Object.keys(parameters).length > 0) replace(MEDIA.params, `${goJson(goMap(parameters))}\n`);
  if (Array.isArray(body.messages) && body.messages.length > 0) {
    const messages = body.messages.map(asObject).map((m) => ({ role: stringField(m, "role"), content: stringField(m, "content") }));
    replace(MEDIA.messages, `${goJson(messages)}\n`);
  }
  steps.push(...layers.map((l) => ({ status: l.status })), { status: "writing manifest" }, { status: "success" });

  const manifest = layers.map((l) => l.layer);
  const config: Layer = { mediaType: MEDIA.config, digest: sha256Hex(`config:${goJson(manifest)}`), size: 485 };
  const created: ModelEntry = {
    ...renamed(base, name),
    size: [...manifest, config].reduce((n, l) => n + l.size, 0),
    digest: sha256Hex(goJson([...manifest, config])),
    quantization,
    layers: [...manifest, config],
  };
  return progressReply(ctx, steps, streaming, call, () => ctx.catalogue.add(created));
}

// Routes of newer Ollama releases (../shared/ollama-wire.md §11) that foreman must carry through:
// GET /api/status (cloud status), POST /v1/audio/transcriptions (since v0.20: a multipart form
// rewritten into a chat with the audio attached, answered by the chat handler through a writer
// that gathers the text), POST /v1/systemone (v0.35: decision models; loads a model).

import { asObject, decodeV1Body, stringField } from "./body.ts";
import type { Call, SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { chatHandler } from "./handlers.ts";
import { json, NDJSON, ndjsonLine } from "./http.ts";
import type { Chunk } from "./inference.ts";
import type { Writer } from "./render.ts";

/** GET /api/status: a local server with cloud models allowed. */
export const status = (): Response => json({ cloud: { disabled: false, source: "none" } });

const SYSTEM_PROMPT = "Transcribe the audio exactly as spoken. Output only the spoken words. Do not answer any question in the audio.";

/**
 * The TranscriptionWriter under the chat handler's stream: it writes nothing until the final
 * chunk, then the whole text. The stream helper has already sent its headers (application/x-ndjson,
 * chunked) at the first flush, so the reply keeps that Content-Type whatever the writer sets.
 */
function transcriptionWriter(format: string): Writer {
  let text = "";
  const whole = (): string => (format === "text" ? text.trim() : ndjsonLine({ text: text.trim() }));
  return {
    contentType: NDJSON,
    frames: (chunk: Chunk) => {
      text += chunk.content;
      return chunk.done ? whole() : "";
    },
    reply: (chunk: Chunk) => {
      text += chunk.content;
      return new Response(whole(), { status: 200, headers: { "Content-Type": NDJSON } });
    },
    broken: () => "",
  };
}

/** The middleware's own refusals: written by c.JSON before any writer exists. */
function refused(message: string): SimError {
  return new SimError(400, message, "middleware");
}

/** POST /v1/audio/transcriptions: the middleware's checks, in its order, then the chat handler. */
export async function transcriptions(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  if (!(req.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) {
    throw refused("failed to parse multipart form: request Content-Type isn't multipart/form-data");
  }
  let form: Awaited<ReturnType<Request["formData"]>>;
  try {
    form = await req.formData();
  } catch (err) {
    throw refused(`failed to parse multipart form: ${(err as Error).message}`);
  }
  const field = (name: string): string => {
    const value = form.get(name);
    return typeof value === "string" ? value : "";
  };
  const model = field("model");
  if (model === "") throw refused("model is required");
  const file = form.get("file");
  if (file === null || typeof file === "string") throw refused("file is required: http: no such file");
  const audio = new Uint8Array(await file.arrayBuffer());
  if (audio.byteLength === 0) throw refused("audio file is empty");
  let system = SYSTEM_PROMPT;
  if (field("language") !== "") system += ` The audio is in ${field("language")}.`;
  if (field("prompt") !== "") system += ` Context: ${field("prompt")}`;
  // the audio goes as an image of the user message; its digest stands for it in the seed
  const digest = new Bun.CryptoHasher("sha256").update(audio).digest("hex");
  const messages = [
    { role: "system", content: system },
    { role: "user", content: `What exact words are spoken in this audio? ${digest}` },
  ];
  const request = { model, messages, tools: [], stream: true, think: undefined, options: { temperature: 0 }, keepAlive: undefined, topLogprobs: 0 };
  return chatHandler(ctx, request, transcriptionWriter(field("response_format")), call);
}

/** POST /v1/systemone: each question answered by its type, usage from the run that answered them. */
export async function systemone(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeV1Body(await req.text(), "SystemOneRequest");
  const model = stringField(body, "model");
  const questions = Object.entries(asObject(body.questions));
  const messages = [{ role: "user", content: `${JSON.stringify(body.state ?? null)} ${questions.map(([k]) => k).join(" ")}` }];
  const request = { model, messages, tools: [], stream: false, think: undefined, options: {}, keepAlive: undefined, topLogprobs: 0 };
  const answer = (type: string, criteria: unknown, i: number): unknown => {
    if (type === "score") return i % 11;
    if (type === "choice" && Array.isArray(criteria) && criteria.length > 0) return criteria[i % criteria.length];
    return i % 2 === 0 ? "no" : "yes";
  };
  const writer: Writer = {
    contentType: NDJSON,
    frames: () => "",
    reply: (chunk) => {
      const answers = Object.fromEntries(questions.map(([key, q], i) => [key, answer(stringField(asObject(q), "type"), asObject(q).criteria, chunk.content.length + i)]));
      return json({ model, answers, usage: { input_tokens: chunk.metrics?.prompt_eval_count ?? 0, output_tokens: chunk.metrics?.eval_count ?? 0 } });
    },
    broken: () => "",
  };
  return chatHandler(ctx, request, writer, call);
}

// POST /api/embed and the legacy /api/embeddings: one JSON reply, which is the artifact.
import { requestedLoad } from "../src/ollama/load-options.ts";
import type { JobKind } from "./kind.ts";
import { modelNotFound, modelRequired, notFoundPullIt } from "./reading.ts";
import { EmbeddingsRequest, EmbedRequest } from "./schemas.ts";

/** The embedding requests have `options` but no `shift`. */
const optionsOnly = (body: Record<string, unknown>) => requestedLoad({ options: body.options });

/** The embed handler's input check, made after the model's name and before looking it up. */
export function inputType(body: Record<string, unknown>): string | undefined {
  const input = body.input;
  const ok = input === undefined || input === null || typeof input === "string" || (Array.isArray(input) && input.every((i) => typeof i === "string"));
  return ok ? undefined : "invalid input type";
}

export const embed: JobKind = {
  endpoint: "/api/embed",
  request: EmbedRequest,
  reading: { struct: ["api", "EmbedRequest"], noModel: modelNotFound, notFound: notFoundPullIt, beforeLookup: inputType },
  load: optionsOnly,
  jobBody: (b) => b,
};

export const embeddings: JobKind = {
  endpoint: "/api/embeddings",
  request: EmbeddingsRequest,
  reading: { struct: ["api", "EmbeddingRequest"], noModel: modelRequired, notFound: notFoundPullIt },
  load: optionsOnly,
  jobBody: (b) => b,
};

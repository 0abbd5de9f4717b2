// POST /v1/embeddings: one JSON reply, which is the artifact.
import { inputType } from "./embed.ts";
import type { JobKind } from "./kind.ts";
import { modelNotFound, notFoundPullIt } from "./reading.ts";
import { OpenAIEmbeddingsRequest } from "./schemas.ts";

/** The middleware's checks: the encoding format, then an input at all. */
function beforeModel(body: Record<string, unknown>): string | undefined {
  const format = typeof body.encoding_format === "string" ? body.encoding_format : "";
  if (format !== "" && !["float", "base64"].includes(format.toLowerCase())) return `Invalid value for 'encoding_format' = ${format}. Supported values: ['float', 'base64'].`;
  const input = body.input;
  if (input === undefined || input === null || (Array.isArray(input) && input.length === 0)) return "invalid input";
  return undefined;
}

export const openaiEmbeddings: JobKind = {
  endpoint: "/v1/embeddings",
  request: OpenAIEmbeddingsRequest,
  reading: { struct: ["openai", "EmbedRequest"], beforeModel, noModel: modelNotFound, notFound: notFoundPullIt, beforeLookup: inputType },
  jobBody: (b) => b,
};

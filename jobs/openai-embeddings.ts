// POST /v1/embeddings: one JSON reply, which is the artifact.
import type { JobKind } from "./kind.ts";
import { OpenAIEmbeddingsRequest } from "./schemas.ts";

export const openaiEmbeddings: JobKind = {
  endpoint: "/v1/embeddings",
  dialect: "openai",
  request: OpenAIEmbeddingsRequest,
  jobBody: (b) => b,
};

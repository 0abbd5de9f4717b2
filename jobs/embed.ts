// POST /api/embed and the legacy /api/embeddings: one JSON reply, which is the artifact.
import type { JobKind } from "./kind.ts";
import { EmbeddingsRequest, EmbedRequest } from "./schemas.ts";

export const embed: JobKind = { endpoint: "/api/embed", dialect: "ollama", request: EmbedRequest, jobBody: (b) => b };
export const embeddings: JobKind = { endpoint: "/api/embeddings", dialect: "ollama", request: EmbeddingsRequest, jobBody: (b) => b };

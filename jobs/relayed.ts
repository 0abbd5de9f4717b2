// Work foreman queues without knowing its shape: a newer Ollama endpoint whose JSON body names a
// model (`/v1/systemone`), and the multipart `/v1/audio/transcriptions`. The reply is relayed
// byte for byte and only how it ended is recorded; no assembler folds it, and such work is never
// an async job (POST /jobs takes only the endpoints of KINDS, whose bodies foreman can check).
import { Type } from "@sinclair/typebox";
import type { JobKind } from "./kind.ts";
import { modelRequired, notFoundQuoted } from "./reading.ts";

/** The kind of a queued request to `endpoint`, which foreman relays without reading its reply. */
export function relayedKind(endpoint: string): JobKind {
  return {
    endpoint,
    request: Type.Object({ model: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
    // Ollama's two namespaces: `/api/*` is its own package, everything else its /v1 layers
    reading: { struct: [endpoint.startsWith("/api/") ? "api" : "openai", "unknown"], noModel: modelRequired, notFound: notFoundQuoted },
    jobBody: (body) => body,
  };
}

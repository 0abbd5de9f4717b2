// GET /v1/models; while the target is unreachable, derived from the last good /api/tags: forwarded to the target directly (not queued).
import { directPassthrough } from "../../../src/http/passthrough-routes.ts";

export default directPassthrough("GET /v1/models", { metadata: true, cached: "models", coalesce: true });

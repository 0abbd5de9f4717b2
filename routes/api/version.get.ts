// GET /api/version: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("GET /api/version", { metadata: true, coalesce: true });

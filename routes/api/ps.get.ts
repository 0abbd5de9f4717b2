// GET /api/ps: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("GET /api/ps", { metadata: true, coalesce: true });

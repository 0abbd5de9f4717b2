// GET /api/ps: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/passthrough/direct.ts";

export default directPassthrough("GET /api/ps", { metadata: true, coalesce: true });

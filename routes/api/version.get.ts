// GET /api/version: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/passthrough/direct.ts";

export default directPassthrough("GET /api/version", { metadata: true, coalesce: true });

// POST /api/pull with its progress stream: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/passthrough/direct.ts";

export default directPassthrough("POST /api/pull");

// POST /api/show: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/passthrough/direct.ts";

export default directPassthrough("POST /api/show", { metadata: true });

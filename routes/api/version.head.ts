// HEAD /api/version: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/passthrough/direct.ts";

export default directPassthrough("HEAD /api/version", { metadata: true });

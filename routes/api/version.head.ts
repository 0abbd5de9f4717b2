// HEAD /api/version: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("HEAD /api/version", { metadata: true });

// HEAD /api/tags: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("HEAD /api/tags", { metadata: true });

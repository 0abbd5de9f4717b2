// GET /api/tags; while the target is unreachable, the poller's last good copy: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("GET /api/tags", { metadata: true, cached: "tags", coalesce: true });

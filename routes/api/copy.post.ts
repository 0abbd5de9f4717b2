// POST /api/copy: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("POST /api/copy");

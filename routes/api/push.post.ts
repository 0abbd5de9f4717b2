// POST /api/push with its progress stream: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("POST /api/push");

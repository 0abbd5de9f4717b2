// POST /api/generate: queued passthrough (interactive lane), the target's reply streamed back unchanged.
import { queuedPassthrough } from "../../src/http/passthrough-routes.ts";

export default queuedPassthrough("/api/generate");

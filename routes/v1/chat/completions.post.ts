// POST /v1/chat/completions: queued passthrough (interactive lane), SSE relayed as it arrives.
import { queuedPassthrough } from "../../../src/http/passthrough-routes.ts";

export default queuedPassthrough("/v1/chat/completions");

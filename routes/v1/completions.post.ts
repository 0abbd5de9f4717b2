// POST /v1/completions: queued passthrough (interactive lane), the target's reply relayed unchanged.
import { queuedPassthrough } from "../../src/http/passthrough-routes.ts";

export default queuedPassthrough("/v1/completions");

// POST /v1/responses (the OpenAI Responses API): queued passthrough (interactive lane), named SSE events relayed as they arrive.
import { queuedPassthrough } from "../../src/http/passthrough-routes.ts";

export default queuedPassthrough("/v1/responses");

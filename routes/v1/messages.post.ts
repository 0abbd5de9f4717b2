// POST /v1/messages (Anthropic's Messages API, as Ollama serves it): queued passthrough (interactive lane), named SSE events relayed as they arrive.
import { queuedPassthrough } from "../../src/http/passthrough-routes.ts";

export default queuedPassthrough("/v1/messages");

// POST /api/chat: queued passthrough (interactive lane), the target's reply streamed back unchanged.
import { queuedPassthrough } from "../../src/passthrough/relay.ts";

export default queuedPassthrough("/api/chat");

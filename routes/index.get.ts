// GET / (Ollama's liveness text): forwarded to the target directly (not queued).
import { directPassthrough } from "../src/passthrough/direct.ts";

export default directPassthrough("GET /", { metadata: true });

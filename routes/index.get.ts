// GET / (Ollama's liveness text): forwarded to the target directly (not queued).
import { directPassthrough } from "../src/http/passthrough-routes.ts";

export default directPassthrough("GET /", { metadata: true });

// HEAD / (Ollama's liveness probe): forwarded to the target directly (not queued).
import { directPassthrough } from "../src/http/passthrough-routes.ts";

export default directPassthrough("HEAD /", { metadata: true });

// HEAD / (Ollama's liveness probe): forwarded to the target directly (not queued).
import { directPassthrough } from "../src/passthrough/relay.ts";

export default directPassthrough("HEAD /");

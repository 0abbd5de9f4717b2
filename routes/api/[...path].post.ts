// POST /api/* not routed elsewhere (blobs, status, newer Ollama endpoints, wrong methods):
// forwarded to the target directly, so it answers as Ollama does.
import { directPassthrough } from "../../src/passthrough/direct.ts";

export default directPassthrough("POST /api/*");

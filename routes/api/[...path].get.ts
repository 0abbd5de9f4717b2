// GET /api/* not routed elsewhere (blobs, status, newer Ollama endpoints, wrong methods):
// forwarded to the target directly, so it answers as Ollama does.
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("GET /api/*");

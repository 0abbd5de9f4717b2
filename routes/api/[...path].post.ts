// POST /api/* not routed elsewhere (blobs, newer Ollama endpoints, wrong methods): queued when its
// JSON body names a model, else forwarded to the target directly, so it answers as Ollama does.
import { forwardedPost } from "../../src/http/passthrough-routes.ts";

export default forwardedPost("POST /api/*");

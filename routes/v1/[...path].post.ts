// POST /v1/* not routed elsewhere (newer Ollama endpoints such as /v1/systemone, wrong methods):
// queued when its JSON body names a model, else forwarded to the target directly.
import { forwardedPost } from "../../src/http/passthrough-routes.ts";

export default forwardedPost("POST /v1/*");

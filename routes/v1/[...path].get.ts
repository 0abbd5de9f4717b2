// GET /v1/* not routed elsewhere (newer Ollama endpoints, wrong methods): forwarded to the
// target directly, so it answers as Ollama does.
import { directPassthrough } from "../../src/http/passthrough-routes.ts";

export default directPassthrough("GET /v1/*");

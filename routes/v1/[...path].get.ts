// GET /v1/* not routed elsewhere (newer Ollama endpoints, wrong methods): forwarded to the
// target directly, so it answers as Ollama does.
import { directPassthrough } from "../../src/passthrough/direct.ts";

export default directPassthrough("GET /v1/*");

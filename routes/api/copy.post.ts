// POST /api/copy: forwarded to the target directly (not queued).
import { directPassthrough } from "../../src/passthrough/relay.ts";

export default directPassthrough("POST /api/copy");

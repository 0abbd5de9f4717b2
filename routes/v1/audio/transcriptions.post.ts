// POST /v1/audio/transcriptions: a multipart upload, spooled to disk, queued (interactive lane), the target's reply relayed.
import { queuedTranscription } from "../../../src/http/passthrough-routes.ts";

export default queuedTranscription("/v1/audio/transcriptions");

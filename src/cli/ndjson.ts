// Reading an NDJSON reply (pull progress, a streamed chat) one object at a time, for the
// commands that stream from foreman or the target. A stream that breaks is a connection error.
import { ForemanConnectionError, messageOf } from "../../clients/ts/errors.ts";
import { framed } from "../../clients/ts/events.ts";
import { splitLines } from "../contract/lines.ts";

/** Each line as an object; a line that is not JSON throws a SyntaxError naming it. */
export async function* ndjsonObjects(body: ReadableStream<Uint8Array>, from: string, signal?: AbortSignal): AsyncGenerator<Record<string, unknown>> {
  const broke = (err: unknown) => (signal?.aborted ? signal.reason : new ForemanConnectionError(`the reply from ${from} broke off: ${messageOf(err)}`, err));
  for await (const line of framed(body, splitLines, broke)) {
    try {
      yield JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof SyntaxError) throw new SyntaxError(`${from} sent something that is not JSON: ${line.slice(0, 80)}`);
      throw err;
    }
  }
}

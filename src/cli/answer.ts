// One answer on the terminal, for `foreman run` and its chat: a spinner while the request
// waits in foreman's queue (and the model loads), the text as it is generated, a reasoning
// model's thinking dimmed on stderr, and Ctrl-C to stop the answer — which closes the request,
// so foreman aborts it at the target.
import type { ForemanClient } from "../../clients/ts/index.ts";
import { streamChat, type ChatRequest } from "./chat-stream.ts";
import { Stopped } from "./exit-codes.ts";

const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";

/** A spinner on stderr (a terminal), erased by stop(). */
function spinner(): { stop(): void } {
  let i = 0;
  const draw = () => process.stderr.write(`\r${FRAMES[i++ % FRAMES.length]} `);
  draw();
  const timer = setInterval(draw, 100);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      process.stderr.write("\r\x1b[2K");
    },
  };
}

export interface AnswerOptions {
  /** write the text to stdout as it comes (not with --json) */
  print: boolean;
}

/** Streams one answer; Ctrl-C throws Stopped after the request was closed. */
export async function answer(client: ForemanClient, request: ChatRequest, options: AnswerOptions): Promise<Awaited<ReturnType<typeof streamChat>>> {
  const abort = new AbortController();
  const onSigint = () => abort.abort(new Stopped("stopped: the answer was canceled at the target"));
  process.on("SIGINT", onSigint);
  const tty = process.stderr.isTTY === true;
  const wait = tty ? spinner() : undefined;
  let thinking = false;
  let endsLine = true;
  try {
    return await streamChat(
      client,
      request,
      {
        thinking(piece) {
          wait?.stop();
          if (!tty) return;
          thinking = true;
          process.stderr.write(`\x1b[2m${piece}\x1b[0m`);
        },
        text(piece) {
          wait?.stop();
          if (thinking) process.stderr.write("\n\n");
          thinking = false;
          if (!options.print) return;
          process.stdout.write(piece);
          endsLine = piece.endsWith("\n");
        },
      },
      abort.signal,
    );
  } finally {
    wait?.stop();
    process.off("SIGINT", onSigint);
    if (thinking) process.stderr.write("\n");
    if (!endsLine) process.stdout.write("\n");
  }
}

// One answer on the terminal, for `foreman run` and its chat: a spinner while the request
// waits in foreman's queue (and the model loads) — with a line saying so when the target is
// down, from /status — the text as it is generated (words wrapped at the terminal's edge), a
// reasoning model's thinking in Ollama's frame, --verbose's timings, and Ctrl-C to stop the
// answer: it closes the request, so foreman takes it out of its queue or aborts it at the target.
import type { ForemanClient } from "../../clients/ts/index.ts";
import { sleep } from "../../clients/ts/retry.ts";
import type { Status } from "../../clients/ts/types.ts";
import { initialWrap, thinkingFrame, verboseSummary, wrapText, type WrapState } from "./answer-text.ts";
import { streamChat, type ChatRequest } from "./chat-stream.ts";
import { getJson } from "./connection.ts";
import { Stopped } from "./exit-codes.ts";
import { ellipsize, shortDuration } from "./human.ts";

const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
const STATUS_EVERY_MS = 1000;

export const clock = (ms: number) => new Date(ms).toLocaleTimeString("en-GB", { hour12: false });

/** Pure: the line shown while the request waits for a target that is down, or null when it is not down. */
export function waitingLine(target: Pick<Status["target"], "up" | "since" | "url">, now: number): string | null {
  if (target.up !== false) return null;
  const since = Date.parse(target.since);
  return `waiting for the target (${target.url}): down since ${clock(since)} (${shortDuration(now - since)}); the request waits in foreman's queue until it answers — Ctrl-C gives up`;
}

/** Pure: what a Ctrl-C did, by how far the request had got. */
export function stoppedMessage(started: boolean, downSince: string | null): string {
  if (started) return "stopped: the answer was canceled at the target";
  if (downSince !== null) return `stopped: the request left foreman's queue; it never reached the target (down since ${clock(Date.parse(downSince))})`;
  return "stopped before the answer began: the request was withdrawn";
}

/** A spinner on stderr (a terminal), with a line beside it when there is something to say; erased by stop(). */
function spinner(): { say(text: string | null): void; stop(): void } {
  let i = 0;
  let text: string | null = null;
  const draw = () => process.stderr.write(`\r${FRAMES[i++ % FRAMES.length]} ${text === null ? "" : ellipsize(text, (process.stderr.columns || 80) - 3)}\x1b[K`);
  draw();
  const timer = setInterval(draw, 100);
  let stopped = false;
  return {
    say(next) {
      text = next;
    },
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
  /** show the thinking (in Ollama's frame); off: --hidethinking, or a pipe without --think */
  thinking: boolean;
  /** wrap words at the terminal's width (a terminal, without --nowordwrap) */
  wrap: boolean;
  /** print Ollama's timings after the answer (--verbose) */
  verbose: boolean;
}

/** What `foreman run`'s flags ask of every answer: fields of the request, and how it is shown. */
export interface ChatOptions {
  request: Omit<ChatRequest, "model" | "messages">;
  answer: AnswerOptions;
}

/** Streams one answer; Ctrl-C throws Stopped after the request was closed. */
export async function answer(client: ForemanClient, request: ChatRequest, options: AnswerOptions): Promise<Awaited<ReturnType<typeof streamChat>>> {
  const abort = new AbortController();
  let started = false;
  let downSince: string | null = null;
  const onSigint = () => abort.abort(new Stopped(stoppedMessage(started, downSince)));
  process.on("SIGINT", onSigint);
  const tty = process.stderr.isTTY === true;
  const wait = tty ? spinner() : undefined;
  // while it waits, /status says whether the target is down, and since when
  const watching = new AbortController();
  const watchTarget = async () => {
    while (!started && !watching.signal.aborted) {
      try {
        const { body } = await getJson<Status>(client, "/status", watching.signal);
        downSince = body.target.up === false ? body.target.since : null;
        wait?.say(waitingLine(body.target, Date.now()));
      } catch {
        // a foreman that does not answer /status: the request's own error says so
      }
      await sleep(STATUS_EVERY_MS, watching.signal).catch(() => {});
    }
  };
  void watchTarget();
  const colour = process.stdout.isTTY === true;
  const frame = thinkingFrame(colour);
  let thinking = false;
  let endsLine = true;
  let wrap: WrapState = initialWrap;
  const write = (text: string, flush = false) => {
    if (!options.wrap) {
      process.stdout.write(text);
      return;
    }
    const next = wrapText(wrap, text, process.stdout.columns || 80, flush);
    wrap = next.state;
    process.stdout.write(next.out);
  };
  try {
    return await streamChat(
      client,
      request,
      {
        started() {
          started = true;
          watching.abort();
        },
        thinking(piece) {
          if (!options.thinking || !options.print) return;
          wait?.stop();
          if (!thinking) process.stdout.write(frame.open);
          thinking = true;
          write(piece);
          endsLine = piece.endsWith("\n");
        },
        text(piece) {
          wait?.stop();
          if (thinking) {
            write("", true);
            process.stdout.write(`${endsLine ? "" : "\n"}${frame.close}`);
            wrap = initialWrap;
          }
          thinking = false;
          if (!options.print) return;
          write(piece);
          endsLine = piece.endsWith("\n");
        },
      },
      abort.signal,
    ).then((reply) => {
      write("", true);
      if (!endsLine) process.stdout.write("\n");
      endsLine = true;
      if (options.verbose) process.stderr.write(verboseSummary(reply as Parameters<typeof verboseSummary>[0]));
      return reply;
    });
  } finally {
    watching.abort();
    wait?.stop();
    process.off("SIGINT", onSigint);
    if (thinking && colour) process.stdout.write("\x1b[0m");
    if (!endsLine) process.stdout.write("\n");
  }
}

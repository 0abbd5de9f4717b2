// The chat's one line reader for the whole session (ADR 0033, superseding 0024 §3's reader per
// prompt, which dropped whatever it had read past the first line: the rest of a paste, a line
// typed while an answer streamed). Keystrokes go through `splitInput` on their way to
// node:readline, which marks each line as ended by Enter or by a newline inside a bracketed
// paste, so a pasted block reaches the chat as one message, as `ollama run` sends it. While an
// answer streams, the terminal is put back in cooked mode and what is typed is held (the
// terminal echoes it; Ctrl-C is a SIGINT that stops the answer) and handed to readline at the
// next prompt: nothing is lost.
import { createInterface } from "node:readline";
import { Readable } from "node:stream";

const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";
/** Asks the terminal to mark pastes (bracketed paste mode), and to stop. */
export const BRACKETED_PASTE = { on: "\x1b[?2004h", off: "\x1b[?2004l" } as const;

export interface InputState {
  /** inside a bracketed paste */
  pasting: boolean;
  /** the last character handed on was a line end made from "\r" (a "\n" right after it is the same end) */
  afterReturn: boolean;
  /** the start of a paste marker cut off at the end of the last chunk */
  pending: string;
}

export const initialInput: InputState = { pasting: false, afterReturn: false, pending: "" };

/**
 * Pure: a chunk of keystrokes as readline should get them — every line end as one "\r" (readline
 * ends a line at each), paste markers removed — and for each line end, in order, whether it came
 * from inside a paste.
 */
export function splitInput(state: InputState, chunk: string): { text: string; pasted: boolean[]; state: InputState } {
  let input = state.pending + chunk;
  let { pasting, afterReturn } = state;
  let pending = "";
  // a marker cut in two waits for the next chunk
  for (const marker of [PASTE_START, PASTE_END]) {
    for (let n = marker.length - 1; n > 0; n--) {
      if (input.endsWith(marker.slice(0, n))) {
        pending = input.slice(-n);
        input = input.slice(0, -n);
        break;
      }
    }
    if (pending) break;
  }
  let text = "";
  const pasted: boolean[] = [];
  for (let i = 0; i < input.length; i++) {
    if (input.startsWith(PASTE_START, i)) {
      pasting = true;
      i += PASTE_START.length - 1;
      continue;
    }
    if (input.startsWith(PASTE_END, i)) {
      pasting = false;
      i += PASTE_END.length - 1;
      continue;
    }
    const ch = input[i]!;
    if (ch === "\n" && afterReturn) {
      afterReturn = false;
      continue;
    }
    afterReturn = ch === "\r";
    if (ch === "\r" || ch === "\n") {
      text += "\r";
      pasted.push(pasting);
    } else text += ch;
  }
  return { text, pasted, state: { pasting, afterReturn, pending } };
}

export type ReadResult = { kind: "line"; line: string; pasted: boolean } | { kind: "interrupt"; typed: boolean } | { kind: "eof" };

export interface LineReader {
  /** The next line (typed before or now), a Ctrl-C at the prompt, or Ctrl-D. Prompts only when nothing is waiting. */
  next(prompt: string): Promise<ReadResult>;
  /** While an answer streams: cooked mode (Ctrl-C is SIGINT), typed input held for the next prompt. */
  hold(): void;
  close(): void;
}

export function openLineReader(): LineReader {
  const stdin = process.stdin;
  let state = initialInput;
  /** keystrokes read, as readline gets them, not handed to it yet; and, per line end in them, whether it was pasted */
  let pending = "";
  const pendingEnds: boolean[] = [];
  /** per line end handed to readline, in order: whether it was pasted */
  const ends: boolean[] = [];
  /** an answer streams: cooked mode, keystrokes kept in `pending` */
  let holding = false;
  /** a next() waits, and no line handed over is still on its way */
  let reading = false;
  const waiting: ReadResult[] = [];
  let wake: (() => void) | null = null;
  const input = Object.assign(new Readable({ read() {} }), {
    isTTY: true,
    setRawMode: (mode: boolean) => {
      if (!holding) stdin.setRawMode?.(mode);
      return input;
    },
  });
  // one line at a time, each at its own prompt: what follows a line end waits for the next next()
  const pump = () => {
    while (reading && !holding && pending) {
      const end = pending.indexOf("\r");
      const piece = end === -1 ? pending : pending.slice(0, end + 1);
      pending = pending.slice(piece.length);
      if (end !== -1) {
        ends.push(pendingEnds.shift() ?? false);
        reading = false;
      }
      input.push(piece);
    }
  };
  stdin.on("data", (chunk: Buffer | string) => {
    const split = splitInput(state, typeof chunk === "string" ? chunk : chunk.toString("utf8"));
    state = split.state;
    pending += split.text;
    pendingEnds.push(...split.pasted);
    pump();
  });
  stdin.on("end", () => input.push(null));
  stdin.resume();
  const rl = createInterface({ input, output: process.stdout, terminal: true, historySize: 1000, removeHistoryDuplicates: true });
  const queue = (result: ReadResult) => {
    waiting.push(result);
    wake?.();
  };
  rl.on("line", (line) => queue({ kind: "line", line, pasted: ends.shift() ?? false }));
  rl.on("SIGINT", () => {
    const typed = rl.line !== "";
    // forget the line being typed, as a terminal's Ctrl-C does
    rl.write(null, { ctrl: true, name: "e" });
    rl.write(null, { ctrl: true, name: "u" });
    queue({ kind: "interrupt", typed });
  });
  rl.on("close", () => queue({ kind: "eof" }));
  process.stdout.write(BRACKETED_PASTE.on);
  return {
    async next(prompt) {
      if (waiting.length === 0) {
        if (holding) {
          holding = false;
          stdin.setRawMode?.(true);
          process.stdout.write(BRACKETED_PASTE.on);
        }
        rl.setPrompt(prompt);
        rl.prompt(true);
        reading = true;
        pump();
      }
      while (waiting.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      reading = false;
      return waiting.shift()!;
    },
    hold() {
      if (holding) return;
      holding = true;
      process.stdout.write(BRACKETED_PASTE.off);
      stdin.setRawMode?.(false);
    },
    close() {
      process.stdout.write(BRACKETED_PASTE.off);
      rl.close();
      stdin.setRawMode?.(false);
      stdin.pause();
    },
  };
}

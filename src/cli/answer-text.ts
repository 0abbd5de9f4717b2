// How `foreman run` writes an answer the way `ollama run` writes it (its cmd/cmd.go, read for
// behaviour): a thinking model's thinking between "Thinking..." and "...done thinking.", words
// wrapped before the terminal's edge instead of cut, and with --verbose the timings Ollama's
// Metrics.Summary prints (durations in Go's notation, eval rates in tokens/s). Pure.

/** What --think takes, as `ollama run --think` does. */
export const THINK_LEVELS = ["true", "false", "high", "medium", "low"] as const;

const GREY = "\x1b[90m";
const BOLD = "\x1b[1m";
const RESET = "\x1b[0m";

/** Ollama's thinking frame: grey, the two marks bold; plain text off a terminal. */
export function thinkingFrame(colour: boolean): { open: string; close: string } {
  if (!colour) return { open: "Thinking...\n", close: "...done thinking.\n\n" };
  return { open: `${GREY}${BOLD}Thinking...\n${RESET}${GREY}`, close: `${GREY}${BOLD}...done thinking.\n\n${RESET}` };
}

export interface WrapState {
  /** columns used on the current line, the held word included */
  column: number;
  /** the word being written, held until it ends so it can move to the next line whole */
  word: string;
}

export const initialWrap: WrapState = { column: 0, word: "" };

/**
 * Text to write for `piece` so lines break between words before `width` columns (Ollama
 * leaves five free); a word longer than the line is cut. Call with `flush` at the end for
 * the held word.
 */
export function wrapText(state: WrapState, piece: string, width: number, flush = false): { out: string; state: WrapState } {
  const limit = Math.max(10, width - 5);
  let { column, word } = state;
  let out = "";
  for (const ch of piece) {
    if (ch === "\n") {
      out += `${word}\n`;
      word = "";
      column = 0;
      continue;
    }
    if (ch === " " || ch === "\t") {
      out += word;
      word = "";
      if (column + 1 > limit) {
        out += "\n";
        column = 0;
        continue;
      }
      out += ch;
      column++;
      continue;
    }
    if (column + 1 > limit) {
      if (word.length >= limit - 5) {
        // no room to move it whole: cut it here
        out += `${word}\n`;
        word = "";
        column = 0;
      } else {
        out += "\n";
        column = word.length;
      }
    }
    word += ch;
    column++;
  }
  if (flush) {
    out += word;
    word = "";
  }
  return { out, state: { column, word } };
}

/** Go's time.Duration.String() for nanoseconds: "1.234567s", "45.2ms", "2m3.5s". */
export function goDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return "0s";
  const trim = (n: number, digits: number) => n.toFixed(digits).replace(/\.?0+$/, "");
  if (ns < 1_000) return `${ns}ns`;
  if (ns < 1_000_000) return `${trim(ns / 1_000, 3)}µs`;
  if (ns < 1_000_000_000) return `${trim(ns / 1_000_000, 6)}ms`;
  const h = Math.floor(ns / 3_600_000_000_000);
  const m = Math.floor(ns / 60_000_000_000) % 60;
  const s = trim((ns % 60_000_000_000) / 1e9, 9);
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

interface Timings {
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
}

/** The lines `ollama run --verbose` prints after an answer, from the reply's timings. */
export function verboseSummary(t: Timings): string {
  const lines: string[] = [];
  const rate = (count = 0, ns: number) => (count / (ns / 1e9)).toFixed(2);
  if (t.total_duration) lines.push(`total duration:       ${goDuration(t.total_duration)}`);
  if (t.load_duration) lines.push(`load duration:        ${goDuration(t.load_duration)}`);
  if (t.prompt_eval_count) lines.push(`prompt eval count:    ${t.prompt_eval_count} token(s)`);
  if (t.prompt_eval_duration) lines.push(`prompt eval duration: ${goDuration(t.prompt_eval_duration)}`, `prompt eval rate:     ${rate(t.prompt_eval_count, t.prompt_eval_duration)} tokens/s`);
  if (t.eval_count) lines.push(`eval count:           ${t.eval_count} token(s)`);
  if (t.eval_duration) lines.push(`eval duration:        ${goDuration(t.eval_duration)}`, `eval rate:            ${rate(t.eval_count, t.eval_duration)} tokens/s`);
  return lines.map((l) => `${l}\n`).join("");
}

// The state of one model's pull, folded from the target's NDJSON progress lines
// ({status, digest, total, completed} or {error}), and its two renderings: a bar redrawn in
// place on a terminal — laid out as Ollama's progress/bar.go lays out its bars (percent, bar,
// size, speed, time left), fitted to the width so it never wraps — and plain lines (each
// step, and every 25 %) for logs and pipes. Errors are not rendered here: the command prints
// each once. Pure; the time is a parameter.
import { ellipsize, humanBytes, shortDuration } from "./human.ts";

export interface PullLine {
  status?: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

/** Bytes done at a moment; the speed is measured over the last few (Ollama keeps ten, one a second). */
interface Sample {
  at: number;
  bytes: number;
}

export interface PullState {
  model: string;
  status: string;
  /** bytes per layer digest, as far as the target has reported them */
  layers: Readonly<Record<string, { total: number; completed: number }>>;
  error?: string;
  samples: readonly Sample[];
  /** the highest percentage shown so far: a layer that starts adds to the total, and the percentage must not go back */
  peak: number;
}

const MAX_SAMPLES = 10;
const SAMPLE_EVERY_MS = 1000;

export const initialPull = (model: string): PullState => ({ model, status: "starting", layers: {}, samples: [], peak: 0 });

export function applyPullLine(state: PullState, line: PullLine, now: number): PullState {
  if (typeof line.error === "string") return { ...state, error: line.error };
  const next: PullState = { ...state, status: line.status ?? state.status };
  if (line.digest && typeof line.total === "number") {
    next.layers = { ...state.layers, [line.digest]: { total: line.total, completed: line.completed ?? 0 } };
    next.peak = Math.max(state.peak, fraction(next));
    const last = state.samples.at(-1);
    if (!last || now - last.at > SAMPLE_EVERY_MS) next.samples = [...state.samples, { at: now, bytes: bytes(next).completed }].slice(-MAX_SAMPLES);
  }
  return next;
}

export const succeeded = (state: PullState): boolean => state.status === "success" && state.error === undefined;

/** Bytes done and to do over every layer seen so far. */
export function bytes(state: PullState): { completed: number; total: number } {
  let completed = 0;
  let total = 0;
  for (const layer of Object.values(state.layers)) {
    completed += layer.completed;
    total += layer.total;
  }
  return { completed, total };
}

/** 0–100 over the layers seen so far. */
function fraction(state: PullState): number {
  const { completed, total } = bytes(state);
  return total > 0 ? Math.floor((completed / total) * 100) : 0;
}

/** 0–100, or null before any layer has a size; never below what it was; 100 once the pull succeeded. */
export function percent(state: PullState): number | null {
  if (succeeded(state)) return 100;
  return bytes(state).total > 0 ? Math.max(state.peak, fraction(state)) : null;
}

/** Bytes a second between the first and last sample, over whole seconds as Ollama counts them; 0 when unknown. */
export function speed(state: PullState): number {
  const first = state.samples[0];
  const last = state.samples.at(-1);
  if (!first || !last) return 0;
  const seconds = Math.round((last.at - first.at) / 1000);
  return seconds > 0 ? (last.bytes - first.bytes) / seconds : 0;
}

const fit = (text: string, width: number) => ellipsize(text, width).padEnd(width);

export interface BarLayout {
  /** the terminal's columns; the line is kept one shorter, so it never wraps */
  columns: number;
  /** the longest model name on the screen, so the bars of every model line up */
  nameWidth: number;
}

/** The widest status the line keeps room for ("verifying sha256 digest"); longer ones are cut. */
const STATUS_WIDTH = 23;

/**
 * One line: `llama3.2   45% ▕████      ▏ 1.0 GB/2.0 GB   12 MB/s   1m23s  pulling dde5aa3fc5ff`.
 * The size, speed and time-left columns have Ollama's fixed widths (13, 10, 8); the bar takes
 * what is left. On a narrower terminal, pieces give way in this order: once every byte is there
 * the empty speed and time columns before the step (so "verifying sha256 digest" and "writing
 * manifest" stay in view at 80 columns), the step, the time left, then the bar before the speed.
 */
export function renderBar(state: PullState, layout: BarLayout): string {
  const width = Math.max(1, layout.columns - 1);
  const { completed, total } = bytes(state);
  const pct = percent(state);
  const done = succeeded(state);
  const status = state.error !== undefined ? "failed" : state.status;
  const name = state.model.padEnd(layout.nameWidth);
  if (pct === null) return fit(`${name}  ${status}`, width).trimEnd();
  // as Ollama's bar: once every byte is there, the total alone and no speed
  const stopped = done || completed >= total;
  const rate = stopped ? 0 : speed(state);
  const size = stopped ? `${humanBytes(total).padStart(6)}${" ".repeat(7)}` : `${humanBytes(completed).padStart(6)}/${humanBytes(total).padStart(6)}`;
  const perSecond = rate > 0 ? `  ${humanBytes(rate).padStart(6)}/s` : "";
  const timing = rate > 0 ? `${perSecond}  ${shortDuration(((total - completed) / rate) * 1000).padStart(6)}` : " ".repeat(18);
  const step = `  ${fit(status, STATUS_WIDTH)}`;
  const pre = `${name} ${String(pct).padStart(3)}%`;
  const bar = (room: number) => {
    const filled = Math.floor((room * pct) / 100);
    return ` ▕${"█".repeat(filled)}${" ".repeat(room - filled)}▏ `;
  };
  // the pieces that fit, most important first
  const withBar: string[] = [size + timing + step, ...(stopped ? [size + step] : []), size + timing, size + perSecond, size];
  for (const suffix of withBar) {
    const room = width - pre.length - 4 - suffix.length;
    if (room >= 10) return `${pre}${bar(room)}${suffix}`.trimEnd();
    // narrower than the bar with its speed: the speed without the bar
    if (suffix === size + perSecond && perSecond && `${pre} ${suffix}`.length <= width) return `${pre} ${suffix}`;
  }
  return fit(`${pre} ${size}`, width).trimEnd();
}

/** A line for a log when a step began or a quarter passed between `prev` and `next`, else null. */
export function plainLine(prev: PullState, next: PullState): string | null {
  if (next.error !== undefined) return null;
  const before = percent(prev);
  const after = percent(next);
  const quarterPassed = after !== null && (before === null || Math.floor(after / 25) > Math.floor(before / 25));
  if (next.status === prev.status && !quarterPassed) return null;
  return `${next.model}: ${next.status}${after === null ? "" : ` (${after}%)`}`;
}

// The state of one model's pull, folded from the target's NDJSON progress lines
// ({status, digest, total, completed} or {error}), and its two renderings: a bar redrawn in
// place on a terminal, and plain lines (each status, and every 25 %) for logs and pipes. Pure.
export interface PullLine {
  status?: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

export interface PullState {
  model: string;
  status: string;
  /** bytes per layer digest, as far as the target has reported them */
  layers: Readonly<Record<string, { total: number; completed: number }>>;
  error?: string;
}

export const initialPull = (model: string): PullState => ({ model, status: "starting", layers: {} });

export function applyPullLine(state: PullState, line: PullLine): PullState {
  if (typeof line.error === "string") return { ...state, error: line.error };
  const next: PullState = { ...state, status: line.status ?? state.status };
  if (line.digest && typeof line.total === "number") {
    next.layers = { ...state.layers, [line.digest]: { total: line.total, completed: line.completed ?? 0 } };
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

/** 0–100, or null before any layer has a size; 100 once the pull succeeded. */
export function percent(state: PullState): number | null {
  if (succeeded(state)) return 100;
  const { completed, total } = bytes(state);
  return total > 0 ? Math.floor((completed / total) * 100) : null;
}

/** Decimal units, as Ollama prints them. */
export function humanBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const label = (state: PullState) => (state.error !== undefined ? `error: ${state.error}` : state.status);

/** One line for a terminal: `llama3.2  [#######.............]  35%  1.4 GB/4.1 GB  pulling 3f2e…`. */
export function renderBar(state: PullState, width = 24): string {
  const pct = percent(state);
  const filled = pct === null ? 0 : Math.round((pct / 100) * width);
  const { completed, total } = bytes(state);
  const size = total > 0 ? `  ${humanBytes(completed)}/${humanBytes(total)}` : "";
  return `${state.model}  [${"#".repeat(filled)}${".".repeat(width - filled)}] ${pct === null ? "  -" : String(pct).padStart(3)}%${size}  ${label(state)}`;
}

/** A line for a log when something worth a line happened between `prev` and `next`, else null. */
export function plainLine(prev: PullState, next: PullState): string | null {
  const before = percent(prev);
  const after = percent(next);
  const quarterPassed = after !== null && (before === null || Math.floor(after / 25) > Math.floor(before / 25));
  if (next.status === prev.status && next.error === prev.error && !quarterPassed) return null;
  return `${next.model}: ${label(next)}${after === null ? "" : ` (${after}%)`}`;
}

// Sizes, times and durations written the way Ollama's CLI writes them (its format/bytes.go,
// format/time.go and progress/bar.go), so `foreman models`, `ps` and `pull` read like
// `ollama list`, `ollama ps` and `ollama pull`. Pure; "now" is a parameter.

const UNITS = [
  [1e12, "TB"],
  [1e9, "GB"],
  [1e6, "MB"],
  [1e3, "KB"],
] as const;

/** Decimal units: "512 B", "1.5 KB", "2.0 GB" is "2 GB", ten and more without decimals ("15 GB"). */
export function humanBytes(n: number): string {
  for (const [size, unit] of UNITS) {
    if (n < size) continue;
    const value = n / size;
    if (value >= 10) return `${Math.floor(value)} ${unit}`;
    return value === Math.trunc(value) ? `${value} ${unit}` : `${value.toFixed(1)} ${unit}`;
  }
  return `${Math.max(0, Math.trunc(n))} B`;
}

/** "Less than a second", "About a minute", "4 hours", "2 weeks" (Ollama's humanDuration). */
function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "3 minutes ago", "4 minutes from now", "Forever" beyond 20 years ahead, `zero` for no time. */
export function humanTime(at: string | number | null | undefined, now: number, zero = "Never"): string {
  const t = typeof at === "string" ? Date.parse(at) : at;
  if (t === null || t === undefined || Number.isNaN(t) || t <= 0) return zero;
  const delta = now - t;
  if (delta < -20 * 365 * 24 * 3_600_000) return "Forever";
  if (delta < 0) return `${humanDuration(-delta)} from now`;
  return `${humanDuration(delta)} ago`;
}

/** At most two units, as the pull bar shows time left: "45s", "1m30s", "2h5m", "99h+". */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 100 * 3600) return "99h+";
  if (s >= 3600) return `${Math.floor(s / 3600)}h${Math.floor(s / 60) % 60}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${s}s`;
}

/** Text cut to `width` columns, an ellipsis marking the cut. */
export const ellipsize = (text: string, width: number): string => (text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text);

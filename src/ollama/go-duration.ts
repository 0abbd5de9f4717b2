// Go's time.ParseDuration, which Ollama's api.Duration uses for a keep_alive given as a string
// ("5m", "1h30m", "0"). The simulator reads keep_alive with it as Ollama does; foreman's edge
// with it tells an unload (keep_alive zero) from real work. Pure.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, returning milliseconds or throwing its error text. */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (rest !== "") {
    const num = /^(\d*)(\.\d*)?/.exec(rest);
    const digits = num?.[0] ?? "";
    if (digits === "" || digits === ".") throw new Error(`time: invalid duration ${quoted}`);
    rest = rest.slice(digits.length);
    const unit = /^[^\d.]*/.exec(rest)?.[0] ?? "";
    if (unit === "") throw new Error(`time: missing unit in duration ${quoted}`);
    const scale = UNIT_MS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    total += Number(digits) * scale;
    rest = rest.slice(unit.length);
  }
  return sign * total;
}

/** Ollama's api.Duration of a keep_alive value is zero: the number 0, or a string duration of 0 ("0", "0s", "0m"). */
export function isZeroKeepAlive(value: unknown): boolean {
  if (typeof value === "number") return value === 0;
  if (typeof value !== "string") return false;
  try {
    return parseGoDuration(value) === 0;
  } catch {
    return false;
  }
}

// Structured logging: one JSON line per event, or a readable line ("pretty") — the default on
// a terminal, JSON when the log goes to a file, a pipe or a collector, or when asked.
// Fields whose names look like credentials are redacted here, so no caller can leak one.
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether a line at this level would be written (to skip building it). */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET_KEY = /token|secret|authorization|password|api[-_]?key|cookie/i;

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEY.test(k)) out[k] = "[redacted]";
    else if (v instanceof Error) out[k] = v.message;
    else out[k] = v;
  }
  return out;
}

/** Pure: the format asked for, else pretty for a person at a terminal and JSON for anything else. */
export function logFormatFor(asked: "json" | "pretty" | undefined, terminal: boolean): "json" | "pretty" {
  return asked ?? (terminal ? "pretty" : "json");
}

export function createLogger(opts: { level: LogLevel; format: "json" | "pretty"; write?: (line: string) => void }): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const min = rank[opts.level];
  const emit = (level: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) => {
    if (rank[level] < min) return;
    const all = redact(fields ?? {});
    if (opts.format === "json") {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }));
    } else {
      const extra = Object.entries(all).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
      write(`${new Date().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? " " + extra : ""}`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    enabled: (level) => rank[level] >= min,
  };
}

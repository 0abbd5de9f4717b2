// The shape of the command table (commands.ts) and what is derived from it here: each
// command's usage text and its flag parser. completion.ts derives the shell completions from
// the same table, so `--help`, parsing and completion cannot disagree. Pure.
import { UsageError } from "./exit-codes.ts";

/** What a shell may offer for a flag's value or a positional: files, or a fixed list. */
export type Completion = "file" | readonly string[];

export interface FlagSpec {
  /** the long name, without the dashes */
  readonly name: string;
  readonly short?: string;
  /** the value's placeholder in the usage text; a flag without one is a switch */
  readonly value?: string;
  /** the value is optional: written alone the flag is `true`, a value comes only after `=` (`--think`, `--think=low`) */
  readonly optional?: boolean;
  /** may be given several times; the values are collected in order */
  readonly multiple?: boolean;
  readonly help: string;
  readonly complete?: Completion;
}

export type Values = Readonly<Record<string, string | boolean | string[] | undefined>>;

export interface Invocation {
  readonly values: Values;
  readonly positionals: readonly string[];
  /** the arguments after the command's name, as given (serve hands them to the config parser) */
  readonly args: readonly string[];
  /** the whole table, for commands that describe it (help, completion) */
  readonly root: CommandSpec;
}

export type Handler = (invocation: Invocation) => Promise<number>;

export interface CommandSpec {
  readonly name: string;
  /** other names that run it (Ollama's: `list`/`ls` for `models`) */
  readonly aliases?: readonly string[];
  /** one line, shown in the parent's list of commands */
  readonly summary: string;
  /** the positionals in the usage line, e.g. "MODEL [PROMPT...]" */
  readonly args?: string;
  /** how many positionals the command takes, [min, max]; none when absent */
  readonly arity?: readonly [number, number];
  /** what a shell may offer for the positionals */
  readonly complete?: Completion;
  /** paragraphs under the usage line */
  readonly about?: string;
  readonly flags?: readonly FlagSpec[];
  /** exit codes, examples: printed last */
  readonly footer?: string;
  /** loaded only when the command runs, so one command does not pay for the others */
  readonly run?: () => Promise<Handler>;
  readonly commands?: readonly CommandSpec[];
}

const HELP_FLAG: FlagSpec = { name: "help", short: "h", help: "show this help" };

/** Every flag the command accepts, --help included. */
export const flagsOf = (spec: CommandSpec): readonly FlagSpec[] => [...(spec.flags ?? []), HELP_FLAG];

/** The command the leading words name, the words that named it, and what follows. */
export function resolve(root: CommandSpec, argv: readonly string[]): { spec: CommandSpec; path: string[]; rest: string[] } {
  let spec = root;
  const path: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const sub = spec.commands?.find((c) => c.name === argv[i] || c.aliases?.includes(argv[i]!));
    if (!sub) break;
    spec = sub;
    path.push(sub.name);
  }
  return { spec, path, rest: argv.slice(i) };
}

/** Whether --help or -h comes before any `--`. */
export function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}

/**
 * `--name value`, `--name=value`, `-x value`; switches take no value; a flag that takes a
 * value takes the next argument whatever it looks like (`--priority -3`); `--` ends the
 * flags. Unknown flags, missing values and a wrong number of positionals are UsageErrors
 * with one line that says which.
 */
export function parseFlags(spec: CommandSpec, args: readonly string[]): { values: Values; positionals: string[] } {
  const flags = flagsOf(spec);
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const written = eq === -1 ? arg : arg.slice(0, eq);
    const flag = written.startsWith("--") ? flags.find((f) => f.name === written.slice(2)) : flags.find((f) => f.short !== undefined && f.short === written.slice(1));
    if (!flag) throw new UsageError(`unknown flag ${written}`);
    if (!flag.value || (flag.optional && eq === -1)) {
      if (eq !== -1) throw new UsageError(`${written} takes no value`);
      values[flag.name] = true;
      continue;
    }
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`${written} needs a value (${flag.value})`);
    if (flag.multiple) values[flag.name] = [...((values[flag.name] as string[] | undefined) ?? []), value];
    else values[flag.name] = value;
  }
  const [min, max] = spec.arity ?? [0, 0];
  if (positionals.length < min) throw new UsageError(`missing ${spec.args ?? "arguments"}`);
  if (positionals.length > max) throw new UsageError(max === 0 ? `unexpected argument "${positionals[0]}"` : `too many arguments (expected ${spec.args})`);
  return { values, positionals };
}

const flagLabel = (f: FlagSpec) => `${f.short ? `-${f.short}, ` : ""}--${f.name}${f.value ? (f.optional ? `[=${f.value}]` : ` ${f.value}`) : ""}`;

/** Rows of two columns, the first padded to the widest (up to `cap`; longer ones get their own line). */
function columns(rows: readonly (readonly [string, string])[], cap = 26): string {
  const width = Math.min(cap, Math.max(0, ...rows.map(([left]) => left.length)));
  const indent = `\n  ${" ".repeat(width)}  `;
  return rows.map(([left, right]) => `  ${left.length > width ? `${left}${indent}` : `${left.padEnd(width)}  `}${right.replaceAll("\n", indent)}`).join("\n");
}

/** The usage text of the command at `path` (the words after `foreman`). */
export function usage(spec: CommandSpec, path: readonly string[]): string {
  const name = ["foreman", ...path].join(" ");
  const synopsis = [name, spec.commands?.length ? (spec.run ? "[COMMAND]" : "COMMAND") : "", spec.args ?? "", "[options]"].filter(Boolean).join(" ");
  const parts = [`Usage: ${synopsis}`];
  if (spec.about) parts.push(spec.about.trim());
  else parts.push(spec.summary);
  if (spec.commands?.length) {
    parts.push(`Commands:\n${columns(spec.commands.map((c) => [[c.name, ...(c.aliases ?? [])].join(", "), c.summary]), 16)}\n\nRun \`${name} COMMAND --help\` for a command's options.`);
  }
  parts.push(`Options:\n${columns(flagsOf(spec).map((f) => [flagLabel(f), f.help]))}`);
  if (spec.footer) parts.push(spec.footer.trim());
  return `${parts.join("\n\n")}\n`;
}

/** A flag's value when it is a string. */
export const str = (v: Values[string]): string | undefined => (typeof v === "string" ? v : undefined);

/** A flag's value when it is one of `list`, or undefined when it was not given. */
export function oneOf<T extends string>(flag: string, v: Values[string], list: readonly T[]): T | undefined {
  const s = str(v);
  if (s !== undefined && !(list as readonly string[]).includes(s)) throw new UsageError(`${flag}: expected one of ${list.join(", ")}`);
  return s as T | undefined;
}

/** A flag's value as seconds (a decimal number up to `max`), or undefined when it was not given. */
export function seconds(flag: string, v: Values[string], max = Infinity): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s) || n > max) throw new UsageError(`${flag}: expected seconds${max < Infinity ? ` up to ${max}` : ""}`);
  return n;
}

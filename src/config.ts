// Configuration: every setting is an environment variable and a command-line flag, validated
// with TypeBox at start-up. This module is the only reader of process.env.
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { existsSync } from "node:fs";
import { listedOrigins, parseOrigins, type OriginRules } from "./ollama/origin-policy.ts";
import { defaultDatabase, LEGACY_DATABASE, type LocationFacts } from "./store/location.ts";
// what lives beside the database, for the commands that read it without a server (foreman backup)
export { filesDir } from "./store/location.ts";
import { parseTrustedProxies } from "./contract/caller.ts";
import { parseMac, parseWakeAddr } from "./target/wake.ts";
import { parseAllowList, type AllowList } from "./webhooks/policy.ts";

interface Option<S extends TSchema = TSchema> {
  env: string;
  flag: string;
  schema: S;
  default: Static<S> | undefined;
  help: string;
  /** Extra check beyond the schema; returns what is expected when the value is wrong. */
  refine?(value: Static<S>): string | undefined;
  secret?: boolean;
}

const option = <S extends TSchema>(o: Option<S>): Option<S> => o;
const int = (min: number, max: number) => Type.Integer({ minimum: min, maximum: max });

const targetUrl = (v: unknown) => {
  if (typeof v !== "string") return "a string";
  if (v === "sim") return undefined;
  try {
    const u = new URL(v);
    if (u.protocol === "http:" || u.protocol === "https:") return undefined;
  } catch {
    // fall through
  }
  return "an http(s) URL such as http://127.0.0.1:11434, or the word sim";
};

export const options = {
  target: option({
    env: "FOREMAN_TARGET",
    flag: "--target",
    schema: Type.String(),
    default: "http://127.0.0.1:11434",
    refine: targetUrl,
    help: "Ollama base URL; `sim` runs the built-in simulator in-process",
  }),
  host: option({
    env: "FOREMAN_HOST",
    flag: "--host",
    schema: Type.String({ minLength: 1 }),
    default: "127.0.0.1",
    help: "address to listen on (0.0.0.0: every interface, as the image sets it; a loopback address also turns on the Host guard against DNS rebinding)",
  }),
  port: option({ env: "FOREMAN_PORT", flag: "--port", schema: int(0, 65535), default: 8080, help: "port to listen on (0 = any free port)" }),
  db: option({
    env: "FOREMAN_DB",
    flag: "--db",
    schema: Type.Optional(Type.String({ minLength: 1 })),
    default: undefined,
    help: "SQLite database file (its directory is created); unset = foreman.db in the per-user data directory ($XDG_DATA_HOME/foreman or ~/.local/share/foreman; ~/Library/Application Support/foreman on macOS; /data in the image), or ./data/foreman.db where that file exists",
  }),
  sync: option({
    env: "FOREMAN_SYNC",
    flag: "--sync",
    schema: Type.Union([Type.Literal("full"), Type.Literal("normal")]),
    default: "full",
    help: "full: a 202, a webhook or a job state foreman reports survives a power cut; normal: faster, survives a crash of the process, not a power cut",
  }),
  token: option({
    env: "FOREMAN_TOKEN",
    flag: "--token",
    schema: Type.Optional(Type.String({ minLength: 1 })),
    default: undefined,
    secret: true,
    help: "bearer token clients must send (unset = no auth)",
  }),
  targetToken: option({
    env: "FOREMAN_TARGET_TOKEN",
    flag: "--target-token",
    schema: Type.Optional(Type.String({ minLength: 1 })),
    default: undefined,
    secret: true,
    help: "bearer token sent to the target",
  }),
  logLevel: option({
    env: "FOREMAN_LOG_LEVEL",
    flag: "--log-level",
    schema: Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error"), Type.Literal("silent")]),
    default: "info",
    help: "debug | info | warn | error | silent",
  }),
  logFormat: option({
    env: "FOREMAN_LOG_FORMAT",
    flag: "--log-format",
    schema: Type.Optional(Type.Union([Type.Literal("json"), Type.Literal("pretty")])),
    default: undefined,
    help: "json (one line per event) | pretty (for people); unset = pretty when the log goes to a terminal, json otherwise",
  }),
  pollIntervalMs: option({
    env: "FOREMAN_POLL_INTERVAL_MS",
    flag: "--poll-interval-ms",
    schema: int(50, 3_600_000),
    default: 2000,
    help: "how often the poller checks the target (liveness, /api/tags, /api/ps)",
  }),
  pollMaxBackoffMs: option({
    env: "FOREMAN_POLL_MAX_BACKOFF_MS",
    flag: "--poll-max-backoff-ms",
    schema: int(50, 3_600_000),
    default: 30_000,
    help: "cap of the poller's exponential back-off while the target is down",
  }),
  agingCapMs: option({
    env: "FOREMAN_AGING_CAP_MS",
    flag: "--aging-cap-ms",
    schema: int(0, 86_400_000),
    default: 600_000,
    help: "a model whose oldest job waited this long is served even while the resident model has work",
  }),
  preemptAfterMs: option({
    env: "FOREMAN_PREEMPT_AFTER_MS",
    flag: "--preempt-after-ms",
    schema: int(0, 86_400_000),
    default: 2000,
    help: "a passthrough request that has waited this long stops the async job running at the target (which goes back to the head of its queue and runs again later); 0 = never",
  }),
  preemptMax: option({ env: "FOREMAN_PREEMPT_MAX", flag: "--preempt-max", schema: int(0, 1000), default: 10, help: "times one job may be preempted; then it runs to completion" }),
  wakeMac: option({
    env: "FOREMAN_WAKE_MAC",
    flag: "--wake-mac",
    schema: Type.Optional(Type.String({ minLength: 1 })),
    default: undefined,
    refine: (v) => (v === undefined || parseMac(v).ok ? undefined : "a MAC address such as 00:11:22:33:44:55"),
    help: "the target's MAC address: while work waits and the target is down, foreman sends it a Wake-on-LAN magic packet (unset = never)",
  }),
  wakeAddr: option({
    env: "FOREMAN_WAKE_ADDR",
    flag: "--wake-addr",
    schema: Type.String(),
    default: "255.255.255.255:9",
    refine: (v) => {
      const parsed = parseWakeAddr(v);
      return parsed.ok ? undefined : parsed.error;
    },
    help: "where the magic packet goes: the LAN's broadcast address and UDP port, or a directed broadcast (192.168.1.255:9) when foreman is not on the target's network segment",
  }),
  wakeIntervalMs: option({
    env: "FOREMAN_WAKE_INTERVAL_MS",
    flag: "--wake-interval-ms",
    schema: int(1000, 86_400_000),
    default: 60_000,
    help: "while the target stays down with work waiting, the magic packet is sent again at most this often",
  }),
  connectTimeoutMs: option({ env: "FOREMAN_CONNECT_TIMEOUT_MS", flag: "--connect-timeout-ms", schema: int(1, 3_600_000), default: 5000, help: "time to reach the target (liveness probes, polls)" }),
  firstByteTimeoutMs: option({
    env: "FOREMAN_FIRST_BYTE_TIMEOUT_MS",
    flag: "--first-byte-timeout-ms",
    schema: int(1, 86_400_000),
    default: 600_000,
    help: "time from sending a request to the target's first byte (model loads take minutes)",
  }),
  metadataTimeoutMs: option({
    env: "FOREMAN_METADATA_TIMEOUT_MS",
    flag: "--metadata-timeout-ms",
    schema: int(1, 3_600_000),
    default: 10_000,
    help: "time the target has to answer a metadata request (/api/tags, /api/ps, /api/version, /api/show, /v1/models, /)",
  }),
  metadataGraceMs: option({
    env: "FOREMAN_METADATA_GRACE_MS",
    flag: "--metadata-grace-ms",
    schema: int(0, 3_600_000),
    default: 1500,
    help: "how long /api/tags and /v1/models wait for the target before the poller's last good copy is served; the request goes on and refreshes the copy",
  }),
  idleTimeoutMs: option({ env: "FOREMAN_IDLE_TIMEOUT_MS", flag: "--idle-timeout-ms", schema: int(1, 86_400_000), default: 120_000, help: "longest silence between two chunks of a streamed reply" }),
  jobMaxRunMs: option({ env: "FOREMAN_JOB_MAX_RUN_MS", flag: "--job-max-run-ms", schema: int(0, 86_400_000), default: 1_800_000, help: "longest an async job's attempt may run from the target's first byte, unless the job sets max_run; then it ends failed (a looping model); 0 = no cap" }),
  interactiveMaxRunMs: option({
    env: "FOREMAN_INTERACTIVE_MAX_RUN_MS",
    flag: "--interactive-max-run-ms",
    schema: int(0, 86_400_000),
    default: 0,
    help: "longest a passthrough request may run from the target's first byte; then its reply is cut off as a broken one (NDJSON: an error line) and the worker moves on; 0 = no cap",
  }),
  maxAttempts: option({ env: "FOREMAN_MAX_ATTEMPTS", flag: "--max-attempts", schema: int(1, 100), default: 5, help: "attempts per job (target 5xx, crashes) before it fails" }),
  retryBaseMs: option({
    env: "FOREMAN_RETRY_BASE_MS",
    flag: "--retry-base-ms",
    schema: int(0, 3_600_000),
    default: 1000,
    help: "a job's first back-off after a target 5xx or timeout; doubles per failed attempt (the worker runs other work meanwhile)",
  }),
  interactiveMaxWaitMs: option({
    env: "FOREMAN_INTERACTIVE_MAX_WAIT_MS",
    flag: "--interactive-max-wait-ms",
    schema: int(1, 86_400_000),
    default: 300_000,
    help: "how long a passthrough request may wait in the queue before 503",
  }),
  interactiveMaxWaiting: option({
    env: "FOREMAN_INTERACTIVE_MAX_WAITING",
    flag: "--interactive-max-waiting",
    schema: int(1, 1_000_000),
    default: 512,
    help: "passthrough requests that may wait at once; more get 503",
  }),
  webhookSecret: option({
    env: "FOREMAN_WEBHOOK_SECRET",
    flag: "--webhook-secret",
    schema: Type.Optional(Type.String({ pattern: "^whsec_[A-Za-z0-9+/=]{8,}$" })),
    default: undefined,
    secret: true,
    help: "Standard Webhooks signing secret (whsec_ + base64); unset = webhooks are sent unsigned",
  }),
  webhookUrl: option({ env: "FOREMAN_WEBHOOK_URL", flag: "--webhook-url", schema: Type.Optional(Type.String({ minLength: 1 })), default: undefined, help: "default webhook for jobs that name none" }),
  webhookAllow: option({
    env: "FOREMAN_WEBHOOK_ALLOW",
    flag: "--webhook-allow",
    schema: Type.String(),
    default: "",
    refine: (v) => {
      const allow = parseAllowList(v);
      return typeof allow === "string" ? `comma-separated host names, IP addresses and CIDRs (${allow})` : undefined;
    },
    help: "comma-separated hosts, IP addresses and CIDRs webhooks may go to; a list replaces the default policy (empty = any host but loopback, link-local, unspecified and multicast addresses) unless it holds *, which keeps it: *,127.0.0.1 adds loopback on top of it",
  }),
  origins: option({
    env: "FOREMAN_ORIGINS",
    flag: "--origins",
    schema: Type.String(),
    default: "",
    refine: (v) => {
      const parsed = parseOrigins(listedOrigins(v));
      return parsed.ok ? undefined : `comma-separated browser origins such as https://app.example or http://*.lan, or * (${parsed.error})`;
    },
    help: "browser origins allowed besides Ollama's defaults (localhost, 127.0.0.1, 0.0.0.0 on any port; app://, file://, tauri://, vscode-webview://, vscode-file://), comma-separated, one * per entry as a wildcard, * alone for any origin; other origins get 403",
  }),
  retentionHours: option({
    env: "FOREMAN_RETENTION_HOURS",
    flag: "--retention-hours",
    schema: int(1, 87_600),
    default: 168,
    help: "finished jobs, artifacts and deliveries older than this are pruned",
  }),
  usageRetentionHours: option({
    env: "FOREMAN_USAGE_RETENTION_HOURS",
    flag: "--usage-retention-hours",
    schema: int(1, 876_000),
    default: 8760,
    help: "hours of the usage rollup (GET /usage) older than this are pruned; it outlives the jobs themselves",
  }),
  trustedProxies: option({
    env: "FOREMAN_TRUSTED_PROXIES",
    flag: "--trusted-proxies",
    schema: Type.String(),
    default: "",
    refine: (v) => {
      const parsed = parseTrustedProxies(v);
      return typeof parsed === "string" ? `comma-separated IP addresses (${parsed})` : undefined;
    },
    help: "addresses of reverse proxies in front of foreman, comma-separated: from these peers only, the caller's address for usage is read from X-Forwarded-For",
  }),
  maxBodyBytes: option({
    env: "FOREMAN_MAX_BODY_BYTES",
    flag: "--max-body-bytes",
    schema: int(1024, 1 << 30),
    default: 64 << 20,
    help: "largest request body foreman reads (inference, /jobs); bodies of direct routes (blob uploads) stream to the target unbounded",
  }),
  bodyBudgetBytes: option({
    env: "FOREMAN_BODY_BUDGET_BYTES",
    flag: "--body-budget-bytes",
    schema: int(1024, 2 ** 40),
    default: 128 << 20,
    help: "memory all request bodies read whole (inference, /jobs) may take at once; past it a body waits its turn within FOREMAN_BODY_TIMEOUT_MS, then 503 with Retry-After; streamed uploads (blobs) are not counted",
  }),
  bodyTimeoutMs: option({
    env: "FOREMAN_BODY_TIMEOUT_MS",
    flag: "--body-timeout-ms",
    schema: int(100, 3_600_000),
    default: 60_000,
    help: "time a request body has to arrive, then 408; an upload streamed to the target past FOREMAN_MAX_BODY_BYTES, and a batch upload (/v1/files, /v1/messages/batches) of any size, may instead pause no longer than this",
  }),
} as const;

type Options = typeof options;
type Key = keyof Options;
/** The options as a list, for the loops that treat them alike. */
const optionList = Object.keys(options).map((key): [Key, Option] => [key as Key, options[key as Key] as Option]);
/** The settings; `db` is always resolved, to the configured file or the default location. */
export type Config = { [K in Exclude<Key, "db">]: Static<Options[K]["schema"]> } & { db: string };
/** `notice`: a line to say once at start-up (the database found at the old default location). */
export type ConfigResult = { ok: true; config: Config; notice?: string } | { ok: false; error: string };

/** What the default database location depends on, besides the environment; tests pass their own. */
export type MachineFacts = Pick<LocationFacts, "platform" | "legacyExists">;
const NO_MACHINE: MachineFacts = { platform: "linux", legacyExists: false };

/** Environment strings become the schema's type before validation ("8080" → 8080). */
function coerce(schema: TSchema, raw: string): unknown {
  return Value.Convert(schema, raw);
}

/** Pure: argv flags (after the subcommand) override env; returns the config or a one-line error. */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, machine: MachineFacts = NO_MACHINE): ConfigResult {
  const fromFlags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) return { ok: false, error: `unexpected argument "${arg}" (see --help)` };
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (!optionList.some(([, o]) => o.flag === flag)) return { ok: false, error: `unknown option ${flag} (see --help)` };
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) return { ok: false, error: `option ${flag} needs a value` };
    fromFlags.set(flag, value);
  }
  const config: Record<string, unknown> = {};
  for (const [key, o] of optionList) {
    const flagValue = fromFlags.get(o.flag);
    const raw = flagValue ?? (env[o.env] === "" ? undefined : env[o.env]);
    const source = flagValue !== undefined ? o.flag : o.env;
    if (raw === undefined) {
      config[key] = o.default;
      continue;
    }
    const value = coerce(o.schema, raw);
    const shown = o.secret ? "(hidden)" : JSON.stringify(withoutPassword(raw));
    if (!Value.Check(o.schema, value)) return { ok: false, error: `invalid ${source} ${shown}: expected ${describe(o.schema)}` };
    const problem = o.refine?.(value);
    if (problem) return { ok: false, error: `invalid ${source} ${shown}: expected ${problem}` };
    config[key] = value;
  }
  if (config.db !== undefined) return { ok: true, config: config as Config };
  const location = defaultDatabase({ ...machine, HOME: env.HOME, XDG_DATA_HOME: env.XDG_DATA_HOME, LOCALAPPDATA: env.LOCALAPPDATA });
  config.db = location.path;
  return { ok: true, config: config as Config, ...(location.notice ? { notice: location.notice } : {}) };
}

function describe(schema: TSchema): string {
  if (schema.anyOf) return `one of ${(schema.anyOf as TSchema[]).map((s) => JSON.stringify(s.const)).join(", ")}`;
  if (schema.type === "integer") return `an integer from ${schema.minimum} to ${schema.maximum}`;
  if (schema.type === "string" && schema.pattern) return `a string matching ${schema.pattern}`;
  if (schema.type === "string") return "a non-empty string";
  return "a valid value";
}

/** The settings written as text, read into the values their users need: the one place each is parsed. */
export interface SettingValues {
  originRules: OriginRules;
  webhookAllow: AllowList;
  /** Set with FOREMAN_WAKE_MAC: the packet's MAC and where it goes. */
  wake: { mac: Uint8Array; host: string; port: number } | null;
}

/**
 * Reads the text settings of a config (parseConfig has checked them; a config built by hand,
 * as tests do, is checked here), or names the first that is wrong and why.
 */
export function settingValues(
  config: Pick<Config, "origins" | "webhookAllow" | "wakeMac" | "wakeAddr">,
): { ok: true; values: SettingValues } | { ok: false; error: string } {
  const webhookAllow = parseAllowList(config.webhookAllow);
  if (typeof webhookAllow === "string") return { ok: false, error: `invalid FOREMAN_WEBHOOK_ALLOW: ${webhookAllow}` };
  const origins = parseOrigins(listedOrigins(config.origins));
  if (!origins.ok) return { ok: false, error: `invalid FOREMAN_ORIGINS: ${origins.error}` };
  if (config.wakeMac === undefined) return { ok: true, values: { originRules: origins.rules, webhookAllow, wake: null } };
  const mac = parseMac(config.wakeMac);
  if (!mac.ok) return { ok: false, error: `invalid FOREMAN_WAKE_MAC: expected ${mac.error}` };
  const addr = parseWakeAddr(config.wakeAddr);
  if (!addr.ok) return { ok: false, error: `invalid FOREMAN_WAKE_ADDR: expected ${addr.error}` };
  return { ok: true, values: { originRules: origins.rules, webhookAllow, wake: { mac: mac.mac, host: addr.host, port: addr.port } } };
}

/** Reads the real environment; the one place process.env is touched. */
export function loadConfig(argv: readonly string[]): ConfigResult {
  return parseConfig(argv, process.env, { platform: process.platform, legacyExists: existsSync(LEGACY_DATABASE) });
}

/** Reads one extra variable that is not an option (e.g. NO_COLOR); kept here so env access stays in one module. */
export function envFlag(name: string): string | undefined {
  return process.env[name];
}

/** A URL's password, if it carries one, replaced. */
function withoutPassword(value: unknown): unknown {
  if (typeof value !== "string" || !value.includes("@")) return value;
  try {
    const url = new URL(value);
    if (!url.password) return value;
    url.password = "(hidden)";
    return url.toString();
  } catch {
    return value;
  }
}

/** A copy safe to log or print: secrets replaced, passwords in URLs hidden. */
export function redacted(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // named by the flag, in the snake_case of foreman's other JSON (`--poll-interval-ms` → poll_interval_ms)
  for (const [key, o] of optionList) {
    out[o.flag.slice(2).replaceAll("-", "_")] = o.secret && config[key] !== undefined ? "(set)" : withoutPassword(config[key]);
  }
  return out;
}

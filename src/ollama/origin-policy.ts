// Ollama's edge policy as pure functions: which browser origins may call it
// (gin-contrib/cors v1.7.2 as Ollama configures it, plus OLLAMA_ORIGINS) and
// which Host names a loopback listener answers (its DNS-rebinding guard).
// The simulator applies it as Ollama would; foreman's edge applies the same
// rules to FOREMAN_ORIGINS. Machine facts (hostname, interface addresses) are
// passed in, so nothing here touches the OS.
import { parseIp, unmap, type IpAddress } from "../contract/ip.ts";

/** A header to add to the reply; `Vary` appears several times, so not a record. */
export type HeaderPair = readonly [name: string, value: string];

export type EdgeDecision =
  /** Go on to the route; add `headers` to whatever it answers. */
  | { kind: "pass"; headers: HeaderPair[] }
  /** Answer 204 with these headers and no body (CORS preflight, or OPTIONS to an allowed host name). */
  | { kind: "preflight"; headers: HeaderPair[] }
  /** Answer 403 with these headers and an empty body. */
  | { kind: "forbidden"; headers: HeaderPair[] };

export interface OriginRules {
  /** `*` was listed: every origin passes and replies say `Access-Control-Allow-Origin: *`. */
  allowAll: boolean;
  /** Entries compared whole (trimmed and lower-cased, as gin-contrib/cors normalizes them). */
  exact: string[];
  /** Entries with one `*`, split around it; `*` alone on a side means "anything". */
  wildcards: Array<readonly [prefix: string, suffix: string]>;
}

export interface HostRules {
  /** The machine's hostname, lower-cased. */
  hostname: string;
  /** Canonical keys (see ipKey) of the addresses assigned to local interfaces. */
  localAddresses: Set<string>;
}

export interface EdgePolicy {
  origins: OriginRules;
  /** null when the server does not listen on loopback: the Host guard is off. */
  hosts: HostRules | null;
}

export interface EdgeRequest {
  method: string;
  origin: string | null;
  /** The Host header as sent, port included. */
  host: string;
  /** A route of foreman's own API (/jobs, /status, …), not one that imitates Ollama: its own CORS header lists. */
  own?: boolean;
}

/** What envconfig.AllowedOrigins appends to OLLAMA_ORIGINS. */
export const DEFAULT_ORIGINS: readonly string[] = [
  ...["localhost", "127.0.0.1", "0.0.0.0"].flatMap((h) => [`http://${h}`, `https://${h}`, `http://${h}:*`, `https://${h}:*`]),
  "app://*",
  "file://*",
  "tauri://*",
  "vscode-webview://*",
  "vscode-file://*",
];

/** The schemes an entry without `*` must start with (gin-contrib/cors with AllowBrowserExtensions). */
const SCHEMES = ["http://", "https://", "chrome-extension://", "safari-extension://", "moz-extension://", "ms-browser-extension://"];

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** Ollama's AllowHeaders list, as written in server/routes.go. */
const ALLOW_HEADERS = [
  "Authorization",
  "Content-Type",
  "User-Agent",
  "Accept",
  "X-Requested-With",
  "OpenAI-Beta",
  ...[
    "arch",
    "async",
    "custom-poll-interval",
    "helper-method",
    "lang",
    "os",
    "package-version",
    "poll-helper",
    "retry-count",
    "runtime",
    "runtime-version",
    "timeout",
  ].map((name) => `x-stainless-${name}`),
];

/** gin-contrib/cors's default MaxAge, 12 hours, in seconds. */
const MAX_AGE_SECONDS = 12 * 60 * 60;

/** Go's http.CanonicalHeaderKey: `openai-beta` → `Openai-Beta`. */
export function canonicalHeaderKey(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * The origin rules for an OLLAMA_ORIGINS-style value: comma-separated entries
 * (split as is, no trimming per entry, like Ollama), then Ollama's defaults.
 * An entry that gin-contrib/cors would reject at startup is an error here.
 */
export function parseOrigins(value: string): { ok: true; rules: OriginRules } | { ok: false; error: string } {
  // envconfig.Var trims spaces, then quotes, from the whole value.
  const trimmed = value.trim().replace(/^["']+|["']+$/g, "");
  const entries = [...(trimmed === "" ? [] : trimmed.split(",")), ...DEFAULT_ORIGINS];
  for (const entry of entries) {
    if (!entry.includes("*") && !SCHEMES.some((s) => entry.startsWith(s))) {
      return { ok: false, error: `bad origin: origins must contain '*' or include ${SCHEMES.join(",")}` };
    }
    if (entry.split("*").length > 2) return { ok: false, error: "only one * is allowed" };
  }
  const wildcards = entries.filter((e) => e.includes("*")).map((e) => {
    const star = e.indexOf("*");
    if (star === 0) return ["*", e.slice(1)] as const;
    if (star === e.length - 1) return [e.slice(0, star), "*"] as const;
    return [e.slice(0, star), e.slice(star + 1)] as const;
  });
  return {
    ok: true,
    rules: { allowAll: entries.includes("*"), exact: [...new Set(entries.map((e) => e.trim().toLowerCase()))], wildcards },
  };
}

/**
 * foreman's reading of FOREMAN_ORIGINS before Ollama's rules apply: each entry is trimmed and
 * empty entries are dropped. Ollama splits OLLAMA_ORIGINS as it is, so `https://a, https://b`
 * stops it at start-up and a `*` entry after a space never matches; a list in an .env file
 * is usually written with spaces, and foreman reads it as meant.
 */
export function listedOrigins(value: string): string {
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .join(",");
}

/** gin-contrib/cors's validateOrigin: the request's Origin as sent, case and all. */
export function originAllowed(rules: OriginRules, origin: string): boolean {
  if (rules.allowAll || rules.exact.includes(origin)) return true;
  return rules.wildcards.some(
    ([prefix, suffix]) =>
      (prefix === "*" && origin.endsWith(suffix)) ||
      (suffix === "*" && origin.startsWith(prefix)) ||
      (origin.startsWith(prefix) && origin.endsWith(suffix)),
  );
}

/** A preflight's Access-Control-Allow-Headers: the fixed list in Go's canonical case. */
const ALLOW_HEADERS_VALUE = [...new Set(ALLOW_HEADERS.map(canonicalHeaderKey))].join(",");

/**
 * foreman's own API (not Ollama's): the request headers it defines — a browser must be let
 * send them — and the reply headers its clients read, which a browser hides unless exposed.
 */
const OWN_ALLOW_HEADERS = ["Authorization", "Content-Type", "Accept", "Idempotency-Key", "Prefer", "Last-Event-ID", "Cache-Control", "X-Request-Id"].join(",");
const OWN_EXPOSE_HEADERS = ["Location", "Preference-Applied", "Retry-After", "Idempotent-Replayed", "Server-Timing", "X-Request-Id"].join(",");

/** The headers an allowed origin gets: preflight (OPTIONS) or on a normal reply; foreman's own routes have their own lists. */
function corsHeaders(rules: OriginRules, origin: string, preflight: boolean, own: boolean): HeaderPair[] {
  const allowOrigin: HeaderPair = ["Access-Control-Allow-Origin", rules.allowAll ? "*" : origin];
  if (!preflight) {
    const reply: HeaderPair[] = rules.allowAll ? [allowOrigin] : [["Vary", "Origin"], allowOrigin];
    return own ? [...reply, ["Access-Control-Expose-Headers", OWN_EXPOSE_HEADERS]] : reply;
  }
  return [
    ["Access-Control-Allow-Headers", own ? OWN_ALLOW_HEADERS : ALLOW_HEADERS_VALUE],
    ["Access-Control-Allow-Methods", METHODS.join(",")],
    ["Access-Control-Max-Age", String(MAX_AGE_SECONDS)],
    allowOrigin,
    ...(rules.allowAll ? [] : (["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"].map((v) => ["Vary", v] as const))),
  ];
}

/**
 * One request at the edge, in Ollama's middleware order:
 * 1. No Origin, or Origin `http(s)://<Host>`: not a CORS request, go on.
 * 2. An Origin off the list: 403, empty body, before anything else runs.
 * 3. OPTIONS from an allowed origin: the preflight answer (204); the Host guard never sees it.
 * 4. Otherwise the CORS headers are kept for the reply and the Host guard runs (if on):
 *    an IP that is loopback, private, unspecified or local passes; an allowed
 *    name passes, or gets 204 for OPTIONS; anything else is 403.
 */
export function edgeDecision(request: EdgeRequest, policy: EdgePolicy): EdgeDecision {
  const { method, origin, host } = request;
  let headers: HeaderPair[] = [];
  if (origin && origin !== `http://${host}` && origin !== `https://${host}`) {
    if (!originAllowed(policy.origins, origin)) return { kind: "forbidden", headers: [] };
    if (method === "OPTIONS") return { kind: "preflight", headers: corsHeaders(policy.origins, origin, true, request.own === true) };
    headers = corsHeaders(policy.origins, origin, false, request.own === true);
  }
  if (!policy.hosts) return { kind: "pass", headers };
  const name = splitHostPort(host) ?? host;
  const ip = parseIp(name);
  if (ip && (isLoopback(ip) || isPrivate(ip) || isUnspecified(ip) || policy.hosts.localAddresses.has(ipKey(ip)))) {
    return { kind: "pass", headers };
  }
  if (!hostNameAllowed(policy.hosts, name)) return { kind: "forbidden", headers };
  return method === "OPTIONS" ? { kind: "preflight", headers } : { kind: "pass", headers };
}

/** Facts about the server and its machine, read by the caller (os.hostname(), os.networkInterfaces()). */
export interface Machine {
  /** The address the server listens on (an IP, or "localhost"). */
  listenHost: string;
  hostname: string;
  interfaceAddresses: readonly string[];
}

/** The whole edge policy: an OLLAMA_ORIGINS-style value and the machine it runs on. */
export function edgePolicy(origins: string, machine: Machine): { ok: true; policy: EdgePolicy } | { ok: false; error: string } {
  const parsed = parseOrigins(origins);
  return parsed.ok ? { ok: true, policy: { origins: parsed.rules, hosts: hostRules(machine) } } : parsed;
}

/** The Host guard for a server listening on `listenHost`, or null when it is not loopback (guard off). */
export function hostRules(machine: Machine): HostRules | null {
  if (!listensOnLoopback(machine.listenHost)) return null;
  const localAddresses = new Set<string>();
  for (const address of machine.interfaceAddresses) {
    const ip = parseIp(address.replace(/%.*$/, ""));
    if (ip) localAddresses.add(ipKey(ip));
  }
  return { hostname: machine.hostname.toLowerCase(), localAddresses };
}

/** Ollama's allowedHost: empty, localhost, the hostname, or a local-only TLD. */
function hostNameAllowed(rules: HostRules, name: string): boolean {
  const host = name.toLowerCase();
  if (host === "" || host === "localhost" || host === rules.hostname) return true;
  return ["localhost", "local", "internal"].some((tld) => host.endsWith(`.${tld}`));
}

/** Go's net.SplitHostPort, returning the host, or null where Go reports an error. */
export function splitHostPort(hostport: string): string | null {
  const colon = hostport.lastIndexOf(":");
  if (colon < 0) return null;
  let host: string;
  let from = 0;
  let after = 0;
  if (hostport.startsWith("[")) {
    const end = hostport.indexOf("]");
    if (end < 0 || end + 1 !== colon) return null;
    host = hostport.slice(1, end);
    from = 1;
    after = end + 1;
  } else {
    host = hostport.slice(0, colon);
    if (host.includes(":")) return null;
  }
  if (hostport.slice(from).includes("[") || hostport.slice(after).includes("]")) return null;
  return host;
}

/** Whether a listen address (`localhost`, an address, an IPv6 one in brackets) is a loopback one. */
export function listensOnLoopback(host: string): boolean {
  const ip = host.toLowerCase() === "localhost" ? parseIp("127.0.0.1") : parseIp(host.replace(/^\[|\]$/g, ""));
  return ip !== null && isLoopback(ip);
}

export function isLoopback(ip: IpAddress): boolean {
  const b = unmap(ip);
  return b.length === 4 ? b[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
}

export function isPrivate(ip: IpAddress): boolean {
  const b = unmap(ip);
  if (b.length === 16) return ((b[0] ?? 0) & 0xfe) === 0xfc;
  const [x = 0, y = 0] = b;
  return x === 10 || (x === 172 && (y & 0xf0) === 16) || (x === 192 && y === 168);
}

/** Exactly 0.0.0.0 or :: (Go does not unmap here). */
export function isUnspecified(ip: IpAddress): boolean {
  return ip.zone === "" && ip.bytes.every((x) => x === 0);
}

/** Equal keys for equal addresses, as Go compares their String() forms. */
export function ipKey(ip: IpAddress): string {
  return `${ip.bytes.join(".")}%${ip.zone}`;
}

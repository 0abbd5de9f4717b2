// Where the CLI finds foreman: --url, else FOREMAN_URL, else this machine on FOREMAN_PORT —
// each read as Ollama reads OLLAMA_HOST, so `mac.lan:8080` or `:9000` will do; and the token:
// --token, else FOREMAN_TOKEN. Shared by every client-side command.
import { ForemanClient } from "../../clients/ts/index.ts";
import { ForemanConnectionError, messageOf } from "../../clients/ts/errors.ts";
import { envFlag, loadConfig } from "../config.ts";
import { UsageError } from "./exit-codes.ts";
import type { FlagSpec, Values } from "./spec.ts";

export const CONNECTION_FLAGS: readonly FlagSpec[] = [
  { name: "url", value: "URL", help: "foreman's address: a URL, or host:port, host or :port as OLLAMA_HOST is written (default $FOREMAN_URL, else http://127.0.0.1:$FOREMAN_PORT)" },
  { name: "token", value: "T", help: "bearer token (default $FOREMAN_TOKEN)" },
];

export const JSON_FLAG: FlagSpec = { name: "json", help: "print JSON for scripts instead of text" };

/**
 * Pure: foreman's base URL from what a person wrote, read the way Ollama reads OLLAMA_HOST —
 * no scheme means http; no host means 127.0.0.1; no port means `defaultPort` without a scheme
 * (80 or 443 with one, as in any URL); a path is kept. An error says what is expected.
 */
export function parseForemanUrl(written: string, defaultPort: number): { ok: true; url: string } | { ok: false; error: string } {
  const value = written.trim();
  const cut = value.indexOf("://");
  const scheme = cut === -1 ? "http" : value.slice(0, cut).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return { ok: false, error: `${JSON.stringify(written)} is not an http(s) address` };
  const rest = cut === -1 ? value : value.slice(cut + 3);
  const slash = rest.indexOf("/");
  const hostport = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash).replace(/\/+$/, "");
  const port = /:(\d*)$/.exec(hostport.replace(/^\[[^\]]*\]/, ""))?.[1];
  const host = port === undefined ? hostport : hostport.slice(0, hostport.length - port.length - 1);
  const portNumber = port === undefined || port === "" ? (cut === -1 ? defaultPort : undefined) : Number(port);
  if (portNumber !== undefined && !(Number.isInteger(portNumber) && portNumber >= 0 && portNumber <= 65535)) return { ok: false, error: `${JSON.stringify(written)}: the port must be a number up to 65535` };
  try {
    const url = new URL(`${scheme}://${host || "127.0.0.1"}${portNumber === undefined ? "" : `:${portNumber}`}${path}`);
    return { ok: true, url: url.toString().replace(/\/+$/, "") };
  } catch {
    return { ok: false, error: `${JSON.stringify(written)} is not an address: expected a URL such as http://127.0.0.1:8080, or host:port` };
  }
}

const configuredPort = (): number => {
  const result = loadConfig([]);
  return result.ok ? result.config.port : 8080;
};

function foremanUrl(written: string, source: string): string {
  const parsed = parseForemanUrl(written, configuredPort());
  if (!parsed.ok) throw new UsageError(`invalid ${source}: ${parsed.error}`);
  return parsed.url;
}

function defaultUrl(): string {
  const fromEnv = envFlag("FOREMAN_URL");
  if (fromEnv) return foremanUrl(fromEnv, "FOREMAN_URL");
  return `http://127.0.0.1:${configuredPort()}`;
}

/** --url if given, else the default. */
export const baseUrlOf = (values: Values): string => (typeof values.url === "string" ? foremanUrl(values.url, "--url") : defaultUrl());

export function connection(values: Values): { baseUrl: string; token?: string } {
  const token = typeof values.token === "string" ? values.token : envFlag("FOREMAN_TOKEN");
  return { baseUrl: baseUrlOf(values), ...(token ? { token } : {}) };
}

export const clientOf = (values: Values): ForemanClient => new ForemanClient(connection(values));

/** GET a JSON document from foreman, with the client's auth and errors; the headers too (x-foreman-cache). */
export async function getJson<T>(client: ForemanClient, path: string, signal?: AbortSignal): Promise<{ body: T; headers: Headers }> {
  const res = await client.request("GET", path, { signal });
  try {
    return { body: (await res.json()) as T, headers: res.headers };
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new ForemanConnectionError(`${path}: the reply broke off or is not JSON: ${messageOf(err)}`, err);
  }
}

/** Prints `value` as JSON with --json, else the human text. */
export function show(values: Values, value: unknown, human: () => string): void {
  process.stdout.write(values.json === true ? `${JSON.stringify(value, null, 2)}\n` : human());
}

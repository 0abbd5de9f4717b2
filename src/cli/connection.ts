// Where the CLI finds foreman: --url, else FOREMAN_URL, else this machine on FOREMAN_PORT;
// and the token: --token, else FOREMAN_TOKEN. Shared by every client-side command.
import { ForemanClient } from "../../clients/ts/index.ts";
import { ForemanConnectionError, messageOf } from "../../clients/ts/errors.ts";
import { envFlag, loadConfig } from "../config.ts";
import type { FlagSpec, Values } from "./spec.ts";

export const CONNECTION_FLAGS: readonly FlagSpec[] = [
  { name: "url", value: "URL", help: "foreman's address (default $FOREMAN_URL, else http://127.0.0.1:$FOREMAN_PORT)" },
  { name: "token", value: "T", help: "bearer token (default $FOREMAN_TOKEN)" },
];

export const JSON_FLAG: FlagSpec = { name: "json", help: "print JSON for scripts instead of text" };

export function defaultUrl(): string {
  const fromEnv = envFlag("FOREMAN_URL");
  if (fromEnv) return fromEnv;
  const result = loadConfig([]);
  return `http://127.0.0.1:${result.ok ? result.config.port : 8080}`;
}

export function connection(values: Values): { baseUrl: string; token?: string } {
  const token = typeof values.token === "string" ? values.token : envFlag("FOREMAN_TOKEN");
  return { baseUrl: typeof values.url === "string" ? values.url : defaultUrl(), ...(token ? { token } : {}) };
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

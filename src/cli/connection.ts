// Where the CLI finds foreman: --url, else FOREMAN_URL, else this machine on FOREMAN_PORT;
// and the token: --token, else FOREMAN_TOKEN. Shared by every client-side command.
import { ForemanClient } from "../../clients/ts/index.ts";
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

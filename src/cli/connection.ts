// Where the CLI finds foreman: --url, else FOREMAN_URL, else this machine on FOREMAN_PORT;
// and the token: --token, else FOREMAN_TOKEN. Shared by every client-side command.
import { envFlag, loadConfig } from "../config.ts";

export const CONNECTION_HELP = `  --url URL      foreman's address (default $FOREMAN_URL, else http://127.0.0.1:$FOREMAN_PORT)
  --token T      bearer token (default $FOREMAN_TOKEN)`;

export const connectionOptions = { url: { type: "string" }, token: { type: "string" } } as const;

export function defaultUrl(): string {
  const fromEnv = envFlag("FOREMAN_URL");
  if (fromEnv) return fromEnv;
  const result = loadConfig([]);
  return `http://127.0.0.1:${result.ok ? result.config.port : 8080}`;
}

export function connection(values: { url?: string; token?: string }): { baseUrl: string; token?: string } {
  const token = values.token ?? envFlag("FOREMAN_TOKEN");
  return { baseUrl: values.url ?? defaultUrl(), ...(token ? { token } : {}) };
}

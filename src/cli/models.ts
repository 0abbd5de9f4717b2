// `foreman models` and `foreman ps`: the target's models (GET /api/tags) and the resident ones
// (GET /api/ps), asked through foreman, in the columns and formats of `ollama list` and
// `ollama ps` (four spaces between columns, sizes and times from human.ts). `--json` prints
// the target's reply as it is. `show`, `stop` and `rm` do what Ollama's commands of those
// names do, through foreman: a model's details, an unload, a delete.
import { ForemanHttpError } from "../../clients/ts/errors.ts";
import type { ForemanClient } from "../../clients/ts/index.ts";
import { clientOf, getJson, show as showJson } from "./connection.ts";
import { EXIT, NotFound } from "./exit-codes.ts";
import { table } from "./format.ts";
import { humanBytes, humanTime } from "./human.ts";
import type { Handler } from "./spec.ts";

interface TagsModel {
  name: string;
  digest?: string;
  size?: number;
  modified_at?: string;
  remote_model?: string;
}

interface RunningModel {
  name: string;
  digest?: string;
  size?: number;
  size_vram?: number;
  context_length?: number;
  expires_at?: string;
}

const GAP = "    ";
const id = (digest: string | undefined) => (digest ?? "").replace(/^sha256:/, "").slice(0, 12);
const matches = (name: string, prefix: string | undefined) => prefix === undefined || name.toLowerCase().startsWith(prefix.toLowerCase());

/** Pure: `ollama list`'s table (NAME, ID, SIZE, MODIFIED), models whose name starts with `prefix`. */
export function modelsTable(models: readonly TagsModel[], now: number, prefix?: string): string {
  const rows = models.filter((m) => matches(m.name, prefix)).map((m) => [m.name, id(m.digest), m.remote_model ? "-" : humanBytes(m.size ?? 0), humanTime(m.modified_at, now)]);
  return table([["NAME", "ID", "SIZE", "MODIFIED"], ...rows], GAP);
}

/** Pure: where a model runs, as `ollama ps` says it ("100% GPU", "48%/52% CPU/GPU"). */
export function processor(size: number, vram: number): string {
  if (vram === 0) return "100% CPU";
  if (vram === size) return "100% GPU";
  if (vram > size || size === 0) return "Unknown";
  const cpu = Math.round(((size - vram) / size) * 100);
  return `${cpu}%/${100 - cpu}% CPU/GPU`;
}

/** Pure: `ollama ps`'s table (NAME, ID, SIZE, PROCESSOR, CONTEXT, UNTIL). */
export function psTable(models: readonly RunningModel[], now: number, prefix?: string): string {
  const until = (m: RunningModel) => (m.expires_at && Date.parse(m.expires_at) < now ? "Stopping..." : humanTime(m.expires_at, now));
  const rows = models.filter((m) => matches(m.name, prefix)).map((m) => [m.name, id(m.digest), humanBytes(m.size ?? 0), processor(m.size ?? 0, m.size_vram ?? 0), String(m.context_length ?? 0), until(m)]);
  return table([["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"], ...rows], GAP);
}

export const models: Handler = async ({ values, positionals: [prefix] }) => {
  const { body, headers } = await getJson<{ models?: TagsModel[] | null }>(clientOf(values), "/api/tags");
  const cached = /copied-at=([^;\s]+)/.exec(headers.get("x-foreman-cache") ?? "")?.[1];
  if (cached) console.error(`foreman models: the target is not answering; this is foreman's copy from ${humanTime(cached, Date.now()).toLowerCase()}`);
  showJson(values, body, () => modelsTable(body.models ?? [], Date.now(), prefix));
  return EXIT.ok;
};

export const ps: Handler = async ({ values, positionals: [prefix] }) => {
  const { body } = await getJson<{ models?: RunningModel[] | null }>(clientOf(values), "/api/ps");
  showJson(values, body, () => psTable(body.models ?? [], Date.now(), prefix));
  return EXIT.ok;
};

interface ShowReply {
  details?: { family?: string; parameter_size?: string; quantization_level?: string };
  model_info?: Record<string, unknown> | null;
  capabilities?: string[] | null;
  parameters?: string;
}

/** Pure: `ollama show`'s sections — Model, Capabilities, Parameters — from /api/show's reply. */
export function showText(reply: ShowReply): string {
  const info = reply.model_info ?? {};
  const arch = typeof info["general.architecture"] === "string" ? info["general.architecture"] : (reply.details?.family ?? "");
  const num = (key: string) => (typeof info[`${arch}.${key}`] === "number" ? String(info[`${arch}.${key}`]) : undefined);
  const rows: [string, string | undefined][] = [
    ["architecture", arch],
    ["parameters", reply.details?.parameter_size],
    ["context length", num("context_length")],
    ["embedding length", num("embedding_length")],
    ["quantization", reply.details?.quantization_level],
  ];
  const section = (title: string, lines: readonly (readonly string[])[]) => `  ${title}\n${table(lines.map((l) => ["", ...l]), GAP)}\n`;
  const parameters = (reply.parameters ?? "").split("\n").filter((l) => l.trim()).map((l) => { const [key = "", ...rest] = l.trim().split(/\s+/); return [key, rest.join(" ")]; });
  return [
    section("Model", rows.filter((r): r is [string, string] => Boolean(r[1]))),
    reply.capabilities?.length ? section("Capabilities", reply.capabilities.map((c) => [c])) : "",
    parameters.length ? section("Parameters", parameters) : "",
  ].join("");
}

const post = (client: ForemanClient, path: string, body: unknown, method: "POST" | "DELETE" = "POST") => client.request(method, path, { headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** A 404 said the way Ollama's CLI says it, anything else as it came. */
async function orNotFound<T>(work: Promise<T>, message: string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw err instanceof ForemanHttpError && err.status === 404 ? new NotFound(message) : err;
  }
}

export const show: Handler = async ({ values, positionals: [model] }) => {
  const res = await orNotFound(post(clientOf(values), "/api/show", { model }), `model "${model}" not found`);
  const body = (await res.json()) as ShowReply;
  showJson(values, body, () => showText(body));
  return EXIT.ok;
};

/** Unloads each model now, as `ollama stop` does: a generate with keep_alive 0 (foreman sends it straight to the target). */
export const stop: Handler = async ({ values, positionals }) => {
  const client = clientOf(values);
  for (const model of positionals) await orNotFound(post(client, "/api/generate", { model, keep_alive: 0 }), `couldn't find model "${model}" to stop`);
  return EXIT.ok;
};

/** Deletes each model from the target, unloading it first, as `ollama rm` does. */
export const rm: Handler = async ({ values, positionals }) => {
  const client = clientOf(values);
  for (const model of positionals) {
    await post(client, "/api/generate", { model, keep_alive: 0 }).catch((err: unknown) => {
      if (!(err instanceof ForemanHttpError && err.status === 404)) process.stderr.write(`Warning: unable to stop model '${model}'\n`);
    });
    await orNotFound(post(client, "/api/delete", { model }, "DELETE"), `model "${model}" not found`);
    process.stdout.write(`deleted '${model}'\n`);
  }
  return EXIT.ok;
};

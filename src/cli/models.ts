// `foreman models` and `foreman ps`: the target's models (GET /api/tags) and the resident ones
// (GET /api/ps), asked through foreman, in the columns and formats of `ollama list` and
// `ollama ps` (four spaces between columns, sizes and times from human.ts). `--json` prints
// the target's reply as it is.
import { clientOf, getJson, show } from "./connection.ts";
import { EXIT } from "./exit-codes.ts";
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
  show(values, body, () => modelsTable(body.models ?? [], Date.now(), prefix));
  return EXIT.ok;
};

export const ps: Handler = async ({ values, positionals: [prefix] }) => {
  const { body } = await getJson<{ models?: RunningModel[] | null }>(clientOf(values), "/api/ps");
  show(values, body, () => psTable(body.models ?? [], Date.now(), prefix));
  return EXIT.ok;
};

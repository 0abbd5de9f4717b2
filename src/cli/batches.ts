// `foreman batch submit|ls|get|results|cancel`: OpenAI batches (ADR 0039) from a shell, through
// the TypeScript client — upload a JSONL file, create its batch, follow it with a progress bar,
// and write its output and error lines. Tables and text for people, `--json` for scripts, exit
// codes from exit-codes.ts. Flags and help are in the command table (commands.ts).
import { existsSync, statSync, writeFileSync } from "node:fs";
import { BATCH_ENDED } from "../../clients/ts/batches.ts";
import type { ForemanClient } from "../../clients/ts/index.ts";
import type { Batch } from "../../clients/ts/types.ts";
import { addSample, plainBatchLine, renderBatchBar, type BatchSample } from "./batch-progress.ts";
import { clientOf, show } from "./connection.ts";
import { EXIT, NotFound, UsageError } from "./exit-codes.ts";
import { table } from "./format.ts";
import { shortDuration } from "./human.ts";
import { seconds, str, type Handler, type Values } from "./spec.ts";

const out = (text: string) => process.stdout.write(text);
const dash = (v: string | number | null | undefined) => (v === null || v === undefined ? "-" : String(v));
const when = (unix: number | null | undefined) => (unix ? new Date(unix * 1000).toISOString() : "-");

/** Pure: a batch, one field per line. */
export function batchDetails(b: Batch): string {
  const { total, completed, failed } = b.request_counts;
  const rows: [string, string][] = [
    ["id", b.id],
    ["status", b.status],
    ["endpoint", b.endpoint],
    ["model", dash(b.model)],
    ["lines", `${total} (${completed} completed, ${failed} failed)`],
    ["input file", b.input_file_id],
    ["output file", dash(b.output_file_id)],
    ["error file", dash(b.error_file_id)],
    ["created", when(b.created_at)],
    ["expires", when(b.expires_at)],
  ];
  for (const [label, at] of [["in progress", b.in_progress_at], ["completed", b.completed_at], ["failed", b.failed_at], ["expired", b.expired_at], ["cancelled", b.cancelled_at]] as const) if (at) rows.push([label, when(at)]);
  for (const e of b.errors?.data ?? []) rows.push(["error", `${e.line === null ? "" : `line ${e.line}: `}${e.message} (${e.code})`]);
  if (b.metadata) rows.push(["metadata", JSON.stringify(b.metadata)]);
  rows.push(["lines as jobs", `foreman jobs ls --batch ${b.id}`]);
  return table(rows);
}

/** Pure: many batches, one a line, newest first. */
export function batchRows(batches: readonly Batch[], now: number): string {
  const age = (b: Batch) => shortDuration(now - b.created_at * 1000);
  const lines = (b: Batch) => `${b.request_counts.completed + b.request_counts.failed}/${b.request_counts.total}`;
  return table([["ID", "STATUS", "ENDPOINT", "MODEL", "DONE", "FAILED", "AGE"], ...batches.map((b) => [b.id, b.status, b.endpoint, dash(b.model), lines(b), String(b.request_counts.failed), age(b)])]);
}

/** Pure: the endpoint a JSONL file's first line names (its `url`), if it names one. */
export function endpointOfFirstLine(head: string): string | undefined {
  const first = head.split("\n", 1)[0]!.trim();
  try {
    const url = (JSON.parse(first) as { url?: unknown }).url;
    return typeof url === "string" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Exit code for an ended batch: 0 when it completed, 1 otherwise (failed, expired, cancelled), as for a job. */
export const exitCodeOfBatch = (b: Batch): number => (b.status === "completed" ? EXIT.ok : EXIT.jobEnded);

/** Follows the batch until it ends, drawing progress on stderr (a bar on a terminal, lines otherwise). */
async function follow(client: ForemanClient, id: string, values: Values): Promise<Batch> {
  const err = process.stderr;
  const tty = err.isTTY === true && values.json !== true;
  let samples: BatchSample[] = [];
  let prev: Batch | undefined;
  const timeout = seconds("--timeout", values.timeout);
  try {
    return await client.waitBatch(id, {
      interval: 500,
      ...(timeout === undefined ? {} : { timeout: timeout * 1000 }),
      onProgress: (b) => {
        samples = addSample(samples, b, Date.now());
        if (tty) err.write(`\r${renderBatchBar(b, samples, err.columns || 80)}\x1b[K`);
        else {
          const line = plainBatchLine(prev, b);
          if (line) err.write(`${line}\n`);
        }
        prev = b;
      },
    });
  } finally {
    if (tty && prev) err.write("\n");
  }
}

/** Writes the batch's output then error lines to FILE (-o, printing its path) or stdout; --json: the results joined to custom_id. */
async function writeResults(client: ForemanClient, batch: Batch, values: Values): Promise<void> {
  if (!batch.output_file_id && !batch.error_file_id) throw new NotFound(`batch ${batch.id} has no results${BATCH_ENDED.includes(batch.status) ? "" : ` yet (it is ${batch.status}; foreman batch submit --wait, or try later)`}`);
  let text = "";
  if (values.json === true) for await (const r of client.batchResults(batch)) text += `${JSON.stringify(r)}\n`;
  else for (const fileId of [batch.output_file_id, batch.error_file_id]) if (fileId) text += await client.fileContent(fileId);
  const file = str(values.output);
  if (file === undefined) return void out(text);
  writeFileSync(file, text);
  out(`${file}\n`);
}

/** The batch's metadata from --webhook and --line-webhooks (the keys foreman reads, ADR 0043), or none. Pure. */
export function batchMetadata(values: Values): Record<string, string> | undefined {
  const metadata: Record<string, string> = {};
  const webhook = str(values.webhook);
  const lines = str(values["line-webhooks"]);
  if (webhook !== undefined) metadata.webhook_url = webhook;
  if (lines !== undefined) metadata.line_webhooks = lines;
  return Object.keys(metadata).length > 0 ? metadata : undefined;
}

export const submit: Handler = async ({ values, positionals: [path] }) => {
  if (!existsSync(path!) || !statSync(path!).isFile()) throw new UsageError(`${path}: no such file`);
  const input = Bun.file(path!);
  const endpoint = str(values.endpoint) ?? endpointOfFirstLine(await input.slice(0, 64 * 1024).text()) ?? "/v1/chat/completions";
  const client = clientOf(values);
  const metadata = batchMetadata(values);
  const batch = await client.submitBatch(input, { endpoint, completionWindow: str(values.window) ?? "24h", filename: path!.split("/").pop()!, ...(metadata ? { metadata } : {}) });
  if (!values.wait) {
    show(values, batch, () => batchDetails(batch));
    return EXIT.ok;
  }
  const ended = await follow(client, batch.id, values);
  if (values.json === true) show(values, ended, () => "");
  else if (ended.output_file_id || ended.error_file_id) await writeResults(client, ended, values);
  else process.stderr.write(batchDetails(ended));
  return exitCodeOfBatch(ended);
};

export const ls: Handler = async ({ values }) => {
  const limit = str(values.limit);
  if (limit !== undefined && (!/^[1-9]\d*$/.test(limit) || Number(limit) > 100)) throw new UsageError("--limit: expected a whole number from 1 to 100");
  const page = await clientOf(values).batches({ after: str(values.after), limit: limit === undefined ? undefined : Number(limit) });
  show(values, page, () => (page.data.length ? batchRows(page.data, Date.now()) : "no batches\n") + (page.has_more && page.last_id ? `more: --after ${page.last_id}\n` : ""));
  return EXIT.ok;
};

export const get: Handler = async ({ values, positionals: [id] }) => {
  const batch = await clientOf(values).batch(id!);
  show(values, batch, () => batchDetails(batch));
  return EXIT.ok;
};

export const results: Handler = async ({ values, positionals: [id] }) => {
  const client = clientOf(values);
  await writeResults(client, await client.batch(id!), values);
  return EXIT.ok;
};

export const cancel: Handler = async ({ values, positionals: [id] }) => {
  const batch = await clientOf(values).cancelBatch(id!);
  show(values, batch, () => batchDetails(batch));
  return EXIT.ok;
};

// `foreman jobs submit|get|ls|cancel|wait|artifact|watch`: the job API from a shell, through
// the TypeScript client. Tables and text for people, `--json` for scripts, exit codes from
// exit-codes.ts. Flags and help are in the command table (commands.ts).
import { readFileSync } from "node:fs";
import type { ForemanClient } from "../../clients/ts/index.ts";
import { jobEndError } from "../../clients/ts/run.ts";
import type { Job, ListFilter } from "../../clients/ts/types.ts";
import { MAX_PAGE } from "../contract/page.ts";
import { MAX_WAIT_SECONDS } from "../contract/prefer.ts";
import { LANE_NAMES } from "../contract/lanes.ts";
import { JOB_STATES, type JobStatus } from "../contract/states.ts";
import { clientOf, show } from "./connection.ts";
import { EXIT, exitCodeOfJob, UsageError } from "./exit-codes.ts";
import { artifactText, jobDetails, jobRows, noJobs, stateLine } from "./format.ts";
import { oneOf, seconds, str, type Handler, type Values } from "./spec.ts";
import { buildSubmission, type SubmitFlags } from "./submission.ts";

const out = (text: string) => process.stdout.write(text);

const waitOptions = (values: Values) => {
  const timeout = seconds("--timeout", values.timeout);
  return timeout === undefined ? {} : { timeout: timeout * 1000 };
};

/**
 * Waits (--timeout) for the job to end, then prints its answer: its text (the artifact with
 * --json) when it is done; a job that failed or was canceled is printed with --json and its
 * error ends the command (exit 1).
 */
export async function printAnswer(client: ForemanClient, jobId: string, values: Values): Promise<number> {
  const job = await client.wait(jobId, waitOptions(values));
  if (job.status !== "done") {
    show(values, job, () => "");
    throw jobEndError(job);
  }
  const artifact = await client.artifact(job.id);
  show(values, artifact, () => artifactText(artifact));
  return EXIT.ok;
}

export const submit: Handler = async ({ values }) => {
  const client = clientOf(values);
  const submission = buildSubmission(values as SubmitFlags, (path) => readFileSync(path, "utf8"));
  const key = str(values["idempotency-key"]) ?? globalThis.crypto.randomUUID();
  const job = await client.submit(submission, { idempotencyKey: key });
  if (values.wait) return printAnswer(client, job.id, values);
  show(values, job, () => jobDetails(job, Date.now()));
  return EXIT.ok;
};

export const get: Handler = async ({ values, positionals: [id] }) => {
  const wait = seconds("--wait", values.wait, MAX_WAIT_SECONDS);
  const job = await clientOf(values).get(id!, wait === undefined ? {} : { wait: Math.ceil(wait) });
  show(values, job, () => jobDetails(job, Date.now()));
  return EXIT.ok;
};

export const ls: Handler = async ({ values }) => {
  const limit = str(values.limit);
  if (limit !== undefined && (!/^[1-9]\d*$/.test(limit) || Number(limit) > MAX_PAGE)) throw new UsageError(`--limit: expected a whole number from 1 to ${MAX_PAGE}`);
  const filter: ListFilter = { lane: oneOf("--lane", values.lane, LANE_NAMES), status: oneOf("--status", values.status, JOB_STATES), model: str(values.model), batch: str(values.batch), limit: limit === undefined ? undefined : Number(limit), cursor: str(values.cursor) };
  const page = await clientOf(values).list(filter);
  show(values, page, () => (page.jobs.length ? jobRows(page.jobs, Date.now(), filter.lane, filter.batch !== undefined) : noJobs(filter)) + (page.next_cursor ? `more: --cursor ${page.next_cursor}\n` : ""));
  return EXIT.ok;
};

export const cancel: Handler = async ({ values, positionals: [id] }) => {
  const job = await clientOf(values).cancel(id!);
  show(values, job, () => jobDetails(job, Date.now()));
  return EXIT.ok;
};

export const wait: Handler = async ({ values, positionals: [id] }) => {
  const ended = await clientOf(values).wait(id!, waitOptions(values));
  show(values, ended, () => jobDetails(ended, Date.now()));
  return exitCodeOfJob(ended);
};

export const artifact: Handler = async ({ values, positionals: [id] }) => {
  const result = await clientOf(values).artifact(id!);
  show(values, result, () => artifactText(result));
  return EXIT.ok;
};

/**
 * Follows the job's event stream until it ends: a line per state change and the generated
 * text as it streams (with --json, each event as one JSON line). Exits as `wait` does.
 */
export const watch: Handler = async ({ values, positionals: [id] }) => {
  let last: Job | undefined;
  let midLine = false;
  for await (const event of clientOf(values).events(id!)) {
    if (event.event !== "job.progress") last = event.data;
    if (values.json === true) {
      out(`${JSON.stringify(event)}\n`);
    } else if (event.event === "job.progress") {
      if (event.data.text) out(event.data.text);
      midLine = event.data.text ? !event.data.text.endsWith("\n") : midLine;
    } else {
      out(`${midLine ? "\n" : ""}${stateLine(event.event.slice("job.".length) as JobStatus, event.data, Date.now())}`);
      midLine = false;
    }
  }
  return last ? exitCodeOfJob(last) : EXIT.ok;
};

// How the CLI shows jobs and artifacts to a person: aligned tables, the reply's text, a job's
// state changes. Pure ("now" is a parameter); `--json` bypasses all of it.
import type { Job, ListFilter } from "../../clients/ts/types.ts";
import { shortDuration } from "./human.ts";

/** Pads every column to its widest cell, `gap` between columns; the last column is not padded. */
export function table(rows: readonly (readonly string[])[], gap = "  "): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join(gap).trimEnd()).join("\n") + "\n";
}

const dash = (v: string | number | null | undefined) => (v === null || v === undefined || v === "" ? "-" : String(v));

/** Why a queued job has no estimate, in words. */
const NO_ETA: Record<NonNullable<Job["eta_reason"]>, string> = {
  no_history: "no estimate yet: no job of this model has finished",
  behind_unknown: "no estimate: work ahead of it has none",
  beyond_horizon: "no estimate: too far back in the queue",
};

/** When a queued job should start and finish, from `now` ("" when it is not queued). */
export function etaText(job: Job, now: number): string {
  if (job.eta) return `starts in ${shortDuration(Date.parse(job.eta.start_at) - now)}, done in ${shortDuration(Date.parse(job.eta.finish_at) - now)}`;
  return job.eta_reason ? NO_ETA[job.eta_reason] : "";
}

/** One job, one field per line. */
export function jobDetails(job: Job, now: number): string {
  const rows: [string, string][] = [
    ["id", job.id],
    ["status", job.status],
    ["model", job.model],
    ["endpoint", job.endpoint],
    ["priority", String(job.priority)],
    ["created", job.created_at],
    ["started", dash(job.started_at)],
    ["finished", dash(job.finished_at)],
    ["attempts", String(job.attempts)],
    ["preemptions", `${job.preemptions}${job.preemptible ? "" : " (not preemptible)"}`],
    ["progress", `${job.progress.chunks} chunks, ${job.progress.tokens} tokens`],
  ];
  if (job.queue_position !== null) rows.push(["queue position", String(job.queue_position)]);
  if (job.run_after) rows.push(["run after", job.run_after]);
  if (job.start_by) rows.push(["start by", job.start_by]);
  if (job.max_run) rows.push(["max run", job.max_run]);
  if (job.retry_at) rows.push(["retry at", job.retry_at]);
  if (job.reason === "expired") rows.push(["reason", "expired: not started by its start_by"]);
  if (job.eta) rows.push(["eta", `${etaText(job, now)} (${job.eta.start_at} to ${job.eta.finish_at})`]);
  else if (job.eta_reason) rows.push(["eta", etaText(job, now)]);
  if (job.error) rows.push(["error", `(${job.error.status}) ${job.error.message}`]);
  if (job.timings) rows.push(["timings", Object.entries(job.timings).map(([k, v]) => `${k}=${Math.round(v)}`).join(" ")]);
  if (job.usage) {
    const u = job.usage;
    rows.push(["usage", `${u.prompt_tokens} prompt + ${u.output_tokens} output tokens, ${u.target_ms} ms on the target (load ${u.load_ms}, prompt ${u.prompt_eval_ms}, generation ${u.generation_ms})${u.estimated ? ", estimated" : ""}`]);
  }
  if (job.batch_id) rows.push(["batch", `${job.batch_id} (custom_id ${JSON.stringify(job.custom_id)})`]);
  if (job.metadata) rows.push(["metadata", JSON.stringify(job.metadata)]);
  return table(rows);
}

/**
 * Many jobs, one per line: AGE since submission, POSITION (work the scheduler takes first), DUE
 * (a scheduled start or a back-off still to come) and DONE IN (the estimate's finish, `?`
 * without one) while queued. Passthrough
 * requests (the interactive lane) show the REQUEST id their caller's log lines carry instead of a
 * priority, which they do not have; a batch's lines (`--batch`) show their CUSTOM_ID instead.
 */
export function jobRows(jobs: readonly Job[], now: number, lane: Job["lane"] = "async", batch = false): string {
  const age = (j: Job) => shortDuration(now - Date.parse(j.created_at));
  const doneIn = (j: Job) => (j.eta ? shortDuration(Date.parse(j.eta.finish_at) - now) : j.eta_reason ? "?" : "-");
  // a batch's lines: which line each job is, instead of the priority they all share
  if (batch) return table([["ID", "CUSTOM_ID", "STATUS", "MODEL", "POSITION", "DONE IN", "AGE"], ...jobs.map((j) => [j.id, dash(j.custom_id), j.status, j.model, dash(j.queue_position), doneIn(j), age(j)])]);
  if (lane === "interactive") {
    return table([["ID", "STATUS", "MODEL", "ENDPOINT", "POSITION", "DONE IN", "REQUEST", "AGE"], ...jobs.map((j) => [j.id, j.status, j.model, j.endpoint, dash(j.queue_position), doneIn(j), dash(j.request_id), age(j)])]);
  }
  return table([["ID", "STATUS", "MODEL", "ENDPOINT", "PRIORITY", "POSITION", "DUE", "DONE IN", "AGE"], ...jobs.map((j) => [j.id, j.status, j.model, j.endpoint, String(j.priority), dash(j.queue_position), dueIn(j, now), doneIn(j), age(j)])]);
}

/** When a queued job may start, if that is still to come: its scheduled start or its back-off (ADR 0035). */
function dueIn(job: Job, now: number): string {
  const at = job.status === "queued" ? (job.retry_at ?? job.run_after) : null;
  const ms = at ? Date.parse(at) - now : 0;
  return ms > 0 ? `in ${shortDuration(ms)}` : "-";
}

/** What `jobs ls` says instead of an empty table. */
export function noJobs(filter: ListFilter): string {
  const what = filter.lane === "interactive" ? "passthrough requests" : "jobs";
  const by = [filter.status && `status ${filter.status}`, filter.model && `model ${filter.model}`, filter.batch && `batch ${filter.batch}`].filter(Boolean);
  return by.length ? `no ${what} with ${by.join(" and ")}\n` : filter.cursor ? `no more ${what}\n` : `no ${what}\n`;
}

/** One line per state change for `jobs watch`: the state, then what is worth knowing in it. */
export function stateLine(status: Job["status"], job: Job, now: number): string {
  const ms = (key: keyof NonNullable<Job["timings"]>, atLeast = 0) => {
    const value = job.timings?.[key];
    return value === undefined || value < atLeast ? undefined : shortDuration(value);
  };
  const detail: Record<Job["status"], () => string> = {
    queued: () =>
      [job.reason === "preempted" && "preempted: runs again from the start,", job.queue_position !== null && `${job.queue_position} ahead${job.eta || job.eta_reason ? "," : ""}`, etaText(job, now)].filter(Boolean).join(" "),
    loading: () => job.model,
    working: () => job.model,
    done: () => [`${job.progress.tokens} tokens`, ms("total_ms") && `in ${ms("total_ms")}`, ms("queue_ms", 1000) && `after ${ms("queue_ms", 1000)} in the queue`].filter(Boolean).join(" "),
    failed: () => (job.error ? `(${job.error.status}) ${job.error.message}` : ""),
    canceled: () => (job.reason === "expired" ? "expired: not started by its start_by" : ""),
  };
  return `${status.padEnd(9)}${detail[status]()}`.trimEnd() + "\n";
}

/** The reply's text for a person (chat, generate, OpenAI choices); other artifacts as indented JSON. */
export function artifactText(artifact: unknown): string {
  if (typeof artifact === "string") return artifact.endsWith("\n") ? artifact : `${artifact}\n`;
  const a = artifact as { message?: { content?: unknown }; response?: unknown; choices?: { message?: { content?: unknown }; text?: unknown }[] } | null;
  const choice = a?.choices?.[0];
  const text = a?.message?.content ?? a?.response ?? choice?.message?.content ?? choice?.text;
  return typeof text === "string" ? `${text}\n` : `${JSON.stringify(artifact, null, 2)}\n`;
}

// `foreman status` on one screen, from GET /status: the target, what is resident, what the
// worker is doing and for how long, the queue by model with its oldest wait, recent swaps and
// reloads, preemptions, batches and their lines, and the Wake-on-LAN packets sent to a target that sleeps.
// Pure: the time, the clock format and the width are parameters.
import type { Status } from "../../clients/ts/types.ts";
import { ellipsize, shortDuration } from "./human.ts";
import { table } from "./format.ts";

export interface ScreenOptions {
  now: number;
  /** foreman's address, as the CLI reached it */
  url: string;
  /** a wall-clock time for a person ("14:02:11") */
  clock(ms: number): string;
  /** lines are cut to this many characters (a redrawn screen must not wrap) */
  width?: number;
}

const LABEL = 10;
const MAX_SWAPS = 5;
/** The states of work in the queue, as the job states name them. */
const ACTIVE = ["queued", "loading", "working"] as const;

/** Rows under a label: the label on the first, the others indented to match. */
const labelled = (label: string, lines: readonly string[]) => lines.map((line, i) => `${(i === 0 ? label : "").padEnd(LABEL)}${line}`);

function worker(s: Status, o: ScreenOptions): string {
  const w = s.worker;
  const since = w.since ? ` for ${shortDuration(o.now - Date.parse(w.since))}` : "";
  if (w.state === "loading" || w.state === "working") return `${w.state} ${w.model} (job ${w.job})${since}`;
  if (w.state === "paused") return `paused: ${w.reason}${w.until ? ` until ${o.clock(Date.parse(w.until))}` : ""}`;
  return "idle";
}

function queue(s: Status): string[] {
  const { by_state: byState, by_model: byModel } = s.queue;
  const models = Object.keys(byModel).sort();
  if (models.length === 0) return ["empty"];
  const oldest = s.queue.oldest_queued_age_seconds;
  const rows = models.map((model) => {
    const by = byModel[model]!;
    const age = s.queue.oldest_queued_age_seconds_by_model[model];
    return [model, ...ACTIVE.map((state) => String(by[state] ?? 0)), age === undefined ? "-" : shortDuration(age * 1000)];
  });
  const summary = `${ACTIVE.map((state) => `${byState[state] ?? 0} ${state}`).join(", ")}${oldest === null ? "" : `; the oldest has waited ${shortDuration(oldest * 1000)}`}`;
  return [summary, ...table([["MODEL", ...ACTIVE.map((state) => state.toUpperCase()), "OLDEST WAIT"], ...rows]).trimEnd().split("\n")];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function swaps(s: Status, o: ScreenOptions): string[] {
  const reloads = s.reloads > 0 ? ` (${plural(s.reloads, "reload")})` : "";
  const head = `${plural(s.swaps, "swap")}${reloads} in ${plural(s.loads, "load")}, ${s.jobs_run} run`;
  const recent = s.recent_swaps.slice(0, MAX_SWAPS).map((w) => `${o.clock(Date.parse(w.at))}  ${w.from} → ${w.to}${w.reload ? " (reload)" : ""}  (${shortDuration(o.now - Date.parse(w.at))} ago)`);
  return [head, ...recent];
}

function preempted(s: Status, o: ScreenOptions): string[] {
  const p = s.last_preemption;
  if (!p) return ["none"];
  const head = `${plural(s.preemptions, "job")}, ${shortDuration(s.preempted_generation_seconds * 1000)} of generation discarded`;
  return [head, `last ${o.clock(Date.parse(p.at))}  job ${p.job} (${p.model}) for ${p.by}  (${shortDuration(o.now - Date.parse(p.at))} ago)`];
}

/** Batches by status (those there are), the lines of those not ended, and the one on the target. */
function batches(s: Status): string[] {
  const counted = Object.entries(s.batches.by_status).filter(([, n]) => n > 0);
  if (counted.length === 0) return ["none"];
  const lines = Object.entries(s.batches.lines).filter(([, n]) => n > 0);
  const r = s.batches.running;
  return [
    `${counted.map(([status, n]) => `${n} ${status}`).join(", ")}${lines.length ? `; lines ${lines.map(([state, n]) => `${n} ${state}`).join(", ")}` : ""}`,
    ...(r ? [`running ${r.id}${r.model ? ` (${r.model})` : ""}: ${r.completed + r.failed} of ${r.total} lines ended, ${r.failed} failed`] : []),
  ];
}

function wake(w: NonNullable<Status["wake"]>, o: ScreenOptions): string {
  const last = w.last_sent_at === null ? "" : `, last ${o.clock(Date.parse(w.last_sent_at))} (${shortDuration(o.now - Date.parse(w.last_sent_at))} ago)`;
  return `${w.mac} via ${w.addr}: ${plural(w.sent, "packet")} sent${last}${w.last_error ? `; failed: ${w.last_error}` : ""}`;
}

export function statusScreen(s: Status, o: ScreenOptions): string {
  const target = s.target;
  const state = target.up === null ? "not checked yet" : `${target.up ? "up" : "DOWN"} since ${o.clock(Date.parse(target.since))} (${shortDuration(o.now - Date.parse(target.since))})`;
  const why = target.up === false ? [`${target.reason}`, ...(target.hint ? [`hint: ${target.hint}`] : [])] : [];
  const lines = [
    `foreman ${s.version} at ${o.url}, up ${shortDuration(s.uptime_seconds * 1000)}`,
    ...labelled("database", [s.database]),
    ...labelled("target", [`${target.url}  ${state}`, ...why]),
    ...(s.wake ? labelled("wake", [wake(s.wake, o)]) : []),
    ...labelled("resident", [target.resident.length ? target.resident.join(", ") : "none"]),
    ...labelled("worker", [worker(s, o)]),
    ...labelled("queue", queue(s)),
    ...labelled("swaps", swaps(s, o)),
    ...labelled("preempted", preempted(s, o)),
    ...labelled("batches", batches(s)),
  ];
  const cut = (line: string) => (o.width === undefined ? line : ellipsize(line, o.width));
  return `${lines.map(cut).join("\n")}\n`;
}

// `foreman status` on one screen, from GET /status: the target, what is resident, what the
// worker is doing and for how long, the queue by model with its oldest wait, recent swaps and
// reloads, preemptions, and the Wake-on-LAN packets sent to a target that sleeps.
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

/** Rows under a label: the label on the first, the others indented to match. */
const labelled = (label: string, lines: readonly string[]) => lines.map((line, i) => `${(i === 0 ? label : "").padEnd(LABEL)}${line}`);

function worker(s: Status, o: ScreenOptions): string {
  const w = s.worker;
  const since = w.since ? ` for ${shortDuration(o.now - Date.parse(w.since))}` : "";
  if (w.state === "running") return `${w.jobStatus === "loading" ? "loading" : "running"} ${w.model} (job ${w.job})${since}`;
  if (w.state === "paused") return `paused: ${w.reason}${w.until ? ` until ${o.clock(Date.parse(w.until))}` : ""}`;
  return "idle";
}

function queue(s: Status): string[] {
  const queued = s.queue.byState.queued ?? 0;
  const running = (s.queue.byState.loading ?? 0) + (s.queue.byState.working ?? 0);
  const models = Object.keys(s.queue.byModel).sort();
  if (models.length === 0) return ["empty"];
  const oldest = s.queue.oldestQueuedAgeSeconds;
  const rows = models.map((model) => {
    const by = s.queue.byModel[model]!;
    const age = s.queue.oldestQueuedAgeSecondsByModel[model];
    return [model, String(by.queued ?? 0), String((by.loading ?? 0) + (by.working ?? 0)), age === undefined ? "-" : shortDuration(age * 1000)];
  });
  const summary = `${queued} queued, ${running} running${oldest === null ? "" : `; the oldest has waited ${shortDuration(oldest * 1000)}`}`;
  return [summary, ...table([["MODEL", "QUEUED", "RUNNING", "OLDEST WAIT"], ...rows]).trimEnd().split("\n")];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function swaps(s: Status, o: ScreenOptions): string[] {
  const reloads = s.reloads > 0 ? ` (${plural(s.reloads, "reload")})` : "";
  const head = `${plural(s.swaps, "swap")}${reloads} in ${plural(s.loads, "load")}, ${s.jobsRun} run`;
  const recent = s.recentSwaps.slice(0, MAX_SWAPS).map((w) => `${o.clock(Date.parse(w.at))}  ${w.from} → ${w.to}${w.reload ? " (reload)" : ""}  (${shortDuration(o.now - Date.parse(w.at))} ago)`);
  return [head, ...recent];
}

function preempted(s: Status, o: ScreenOptions): string[] {
  const p = s.lastPreemption;
  if (!p) return ["none"];
  const head = `${plural(s.preemptions, "job")}, ${shortDuration(s.preemptedGenerationSeconds * 1000)} of generation discarded`;
  return [head, `last ${o.clock(Date.parse(p.at))}  job ${p.job} (${p.model}) for ${p.by}  (${shortDuration(o.now - Date.parse(p.at))} ago)`];
}

function wake(w: NonNullable<Status["wake"]>, o: ScreenOptions): string {
  const last = w.lastSentAt === null ? "" : `, last ${o.clock(Date.parse(w.lastSentAt))} (${shortDuration(o.now - Date.parse(w.lastSentAt))} ago)`;
  return `${w.mac} via ${w.addr}: ${plural(w.sent, "packet")} sent${last}${w.lastError ? `; failed: ${w.lastError}` : ""}`;
}

export function statusScreen(s: Status, o: ScreenOptions): string {
  const target = s.target;
  const state = target.up === null ? "not checked yet" : `${target.up ? "up" : "DOWN"} since ${o.clock(Date.parse(target.since))} (${shortDuration(o.now - Date.parse(target.since))})`;
  const why = target.up === false ? [`${target.reason}`, ...(target.hint ? [`hint: ${target.hint}`] : [])] : [];
  const lines = [
    `foreman ${s.version} at ${o.url}, up ${shortDuration(s.uptimeSeconds * 1000)}`,
    ...labelled("database", [s.database]),
    ...labelled("target", [`${target.url}  ${state}`, ...why]),
    ...(s.wake ? labelled("wake", [wake(s.wake, o)]) : []),
    ...labelled("resident", [target.resident.length ? target.resident.join(", ") : "none"]),
    ...labelled("worker", [worker(s, o)]),
    ...labelled("queue", queue(s)),
    ...labelled("swaps", swaps(s, o)),
    ...labelled("preempted", preempted(s, o)),
  ];
  const cut = (line: string) => (o.width === undefined ? line : ellipsize(line, o.width));
  return `${lines.map(cut).join("\n")}\n`;
}

// How an attempt's end is written, in one table (issue 21, after River's executor): from how the
// attempt ended and what the job has been through, which named queue operation writes it and
// what the waiting passthrough caller is told. The worker only tells the end apart and carries
// out the answer (inside the handoff, ADR 0028); the rules are here, pure, tested without I/O.
import type { JobError } from "../queue/queue.ts";
import type { Usage } from "../queue/usage-schema.ts";
import { afterDrop } from "./resend.ts";
import { afterFailure, type RetryPolicy } from "./retry.ts";

/** How one attempt on the target ended. */
export type Attempt =
  /** The reply came whole. */
  | { kind: "done"; progress: { chunks: number; tokens: number }; usage: Usage; artifact: { contentType: string; body: string } }
  /** The target answered with an error status, or broke its stream (500). */
  | { kind: "target error"; status: number; message: string }
  /** The passthrough caller went away while its reply was sent. */
  | { kind: "gone" }
  /** The caller went away while the target had not answered yet. */
  | { kind: "caller left" }
  /** The target dropped the request before its first byte, now `drops` times (ADR 0030). */
  | { kind: "reset"; message: string; drops: number }
  /** The target could not be reached (asleep, down). */
  | { kind: "unreachable"; message: string }
  /** Canceled by request while it ran. */
  | { kind: "canceled"; message: string }
  /** Stopped at its run-time cap (ADR 0035). */
  | { kind: "over run cap"; message: string }
  /** foreman is shutting down. */
  | { kind: "shutting down"; message: string }
  /** An interactive request took the target (ADR 0020); `discardedMs`: generation thrown away. */
  | { kind: "preempted"; by: string; at: number; discardedMs: number }
  /** The target said nothing for too long (504), or broke the connection mid-reply (502). */
  | { kind: "timeout" | "dropped"; message: string }
  /** Anything else that stopped it (a bug of foreman's own, most likely): 502. */
  | { kind: "unexpected"; message: string };

/** The queue's named operations a job's end is written with. */
export type Operation =
  | { name: "complete"; progress: { chunks: number; tokens: number }; usage: Usage; artifact?: { contentType: string; body: string } }
  | { name: "fail"; error: JobError; failure: boolean }
  | { name: "retryLater"; error: JobError; delayMs: number }
  | { name: "requeue"; reason: string; drops?: number; toBack?: boolean }
  | { name: "preempt"; by: string; discardedMs: number }
  | { name: "cancel"; reason: string };

/** What the waiting passthrough caller is told once the end is written: nothing (it has the reply, or keeps waiting), an error, or the target's cut (ADR 0030). */
export type Reply = { kind: "none" } | { kind: "fail"; status: number; message: string } | { kind: "cut" };

export interface JobSoFar {
  /** A passthrough caller waits on the attempt (the interactive lane). */
  caller: boolean;
  /** Failed attempts counted before this one. */
  failures: number;
}

export interface EndOfAttempt {
  operation: Operation;
  /** Whether the attempt's timings are written with it: only with a reply the target gave and no retry. */
  timings: boolean;
  reply: Reply;
}

const NONE: Reply = { kind: "none" };

/** What a waiting passthrough caller whose request was canceled is answered: Ollama's 499 for a request canceled before it finished. */
export const CANCELED_STATUS = 499;

/** The end written for `attempt` of a job with `job`'s history. */
export function endOf(attempt: Attempt, job: JobSoFar, retry: RetryPolicy): EndOfAttempt {
  const answered = (operation: Operation): EndOfAttempt => ({ operation, timings: true, reply: NONE });
  const told = (operation: Operation, reply: Reply = NONE): EndOfAttempt => ({ operation, timings: false, reply });
  const failed = (error: JobError) => told({ name: "fail", error, failure: false }, { kind: "fail", ...error });
  const canceled = (error: JobError) => told({ name: "cancel", reason: error.message }, { kind: "fail", ...error });
  // an async job's failed attempt: back to the queue after its back-off, until its attempts run out (ADR 0017)
  const retryOrFail = (error: JobError): EndOfAttempt => {
    const failures = job.failures + 1;
    const decision = afterFailure(failures, retry);
    if (decision.giveUp) return told({ name: "fail", failure: true, error: { ...error, message: `${error.message} (gave up after ${failures} attempts)` } });
    return told({ name: "retryLater", error, delayMs: decision.delayMs });
  };
  switch (attempt.kind) {
    case "done":
      return answered({ name: "complete", progress: attempt.progress, usage: attempt.usage, ...(job.caller ? {} : { artifact: attempt.artifact }) });
    case "gone":
      return answered({ name: "cancel", reason: "the caller went away" });
    case "target error": {
      const error = { status: attempt.status, message: attempt.message };
      // passthrough callers got the target's answer as it was; 4xx is the job's own fault
      if (job.caller || attempt.status < 500) return answered({ name: "fail", error, failure: false });
      return retryOrFail(error);
    }
    case "reset": {
      const next = afterDrop(attempt.drops);
      if (next.kind === "give up") return told({ name: "fail", failure: true, error: { status: 502, message: next.message } }, { kind: "cut" });
      return told({ name: "requeue", reason: attempt.message, drops: attempt.drops, toBack: next.kind === "back" });
    }
    case "unreachable":
      // not the job's fault: back in line, a passthrough caller keeps waiting
      return told({ name: "requeue", reason: attempt.message });
    case "canceled":
      return canceled({ status: CANCELED_STATUS, message: attempt.message });
    case "over run cap":
      // not retried: the same request would run into the cap again
      return failed({ status: 504, message: attempt.message });
    case "shutting down":
      return job.caller ? canceled({ status: 503, message: attempt.message }) : told({ name: "requeue", reason: attempt.message });
    case "caller left":
      return canceled({ status: CANCELED_STATUS, message: "the caller went away" });
    case "preempted":
      return told({ name: "preempt", by: attempt.by, discardedMs: attempt.discardedMs });
    case "timeout":
    case "dropped":
    case "unexpected": {
      const error = { status: attempt.kind === "timeout" ? 504 : 502, message: attempt.message };
      return job.caller ? failed(error) : retryOrFail(error);
    }
  }
}

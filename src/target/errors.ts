// How talking to the target can fail, told apart because each means something else to a job:
// unreachable (not the job's fault: requeue), silent (a timeout), dropped mid-reply (a failed attempt).
/** The target could not be reached at all (refused, reset before answering, no route). */
export class TargetUnreachable extends Error {}

/** The target accepted the request but said nothing for too long. */
export class TargetTimeout extends Error {}

/**
 * The connection broke after the target had started answering: the target was reachable,
 * so this counts as a failed attempt (bounded retries), not as a sleeping target.
 */
export class TargetDropped extends Error {}

/** Bun's advice appended to its fetch errors: meant for a developer at a console, not for a caller. */
const BUN_HINT = /\s*For more information, pass `verbose: true` in the second argument to fetch\(\)\.?/g;

/** A URL in a message: the target's internal address is no caller's business. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)]+/gi;

/**
 * Why talking to the target failed, in words fit for a caller (replies, job errors): the error's
 * message without Bun's developer hint or any URL, with its code. Pure.
 */
export function networkReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const text = String(e?.message ?? err).replace(BUN_HINT, "").replace(URL_IN_TEXT, "the target").trim();
  const code = typeof e?.code === "string" ? e.code : "";
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

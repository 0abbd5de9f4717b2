// How talking to the target can fail, told apart because each means something else to a job:
// unreachable (not the job's fault: requeue), reset (re-sent a few times), silent (a timeout), dropped mid-reply (a failed attempt).
/** The target could not be reached at all (refused, reset before answering, no route). */
export class TargetUnreachable extends Error {}

/**
 * The target took the connection and closed it before the first byte of its answer (a reset):
 * a crash of Ollama, or the request itself killing it. Unlike a refused connection this says
 * nothing sure about the target — the next liveness probe decides — and the request is re-sent
 * only a few times (ADR 0030).
 */
export class TargetReset extends TargetUnreachable {}

/** The target accepted the request but said nothing for too long. */
export class TargetTimeout extends Error {}

/**
 * The connection broke after the target had started answering: the target was reachable,
 * so this counts as a failed attempt (bounded retries), not as a sleeping target.
 */
export class TargetDropped extends Error {}

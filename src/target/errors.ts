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

/**
 * Pure: why a connection to the target failed, in a few words a person can act on (connection
 * refused, timed out, DNS), from the runtime's error — never the runtime's own sentence.
 */
export function unreachableCause(err: unknown): string {
  if (err instanceof TargetTimeout) return "timed out";
  const inner = err instanceof TargetUnreachable && err.cause !== undefined ? err.cause : err;
  const code = String((inner as { code?: unknown } | null)?.code ?? "");
  const message = inner instanceof Error ? inner.message : String(inner);
  if (/ECONNREFUSED|ConnectionRefused/i.test(code) || /ECONNREFUSED/.test(message)) return "connection refused";
  if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME|DNS/i.test(code) || /getaddrinfo|ENOTFOUND/.test(message)) return "DNS: host name not found";
  if (/ETIMEDOUT|Timeout/i.test(code) || (inner as Error | null)?.name === "TimeoutError") return "timed out";
  if (/EHOSTUNREACH|ENETUNREACH/i.test(code)) return "no route to host";
  if (/ECONNRESET|ConnectionClosed|EPIPE/i.test(code) || /socket connection was closed|ECONNRESET/i.test(message)) return "connection reset";
  if (/CERT|SSL|TLS/i.test(code)) return `TLS: ${code}`;
  return code ? code : message;
}

/** Pure: what to try for a target that cannot be reached for `cause`, at `targetUrl`; undefined when nothing useful is known. */
export function unreachableHint(cause: string, targetUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(targetUrl).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
  const local = host === "localhost" || host.startsWith("127.") || host === "::1";
  if (cause.startsWith("DNS")) return `no address for ${host}: check the host name in FOREMAN_TARGET`;
  if (local && cause === "connection refused") return "is Ollama running on this machine? (`ollama serve`, or open the Ollama app)";
  if (!local && (cause === "connection refused" || cause === "timed out")) {
    return "Ollama listens on 127.0.0.1 only unless told otherwise: on a Mac, run `launchctl setenv OLLAMA_HOST 0.0.0.0:11434` there and restart the Ollama app; on Linux, set OLLAMA_HOST=0.0.0.0:11434 in the ollama service (docs/operations.md)";
  }
  return undefined;
}

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

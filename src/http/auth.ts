// The static bearer token clients must send when FOREMAN_TOKEN is set. Compared in
// constant time over SHA-256 digests, so neither the content nor the length leaks. And the
// warning for a foreman that needs none while the network can reach it.
import { timingSafeEqual } from "node:crypto";
import { listensOnLoopback } from "../ollama/origin-policy.ts";

const digest = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest();

/** Whether an Authorization header carries `token`; the token's digest is taken once. */
export function bearerMatcher(token: string): (header: string | null) => boolean {
  const expected = digest(token);
  return (header) => {
    const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
    const given = m ? m[1]!.trim() : "";
    return timingSafeEqual(digest(given), expected) && given.length > 0;
  };
}

/**
 * Whether a request carries the token: as `Authorization: Bearer`, or as `x-api-key`, the header
 * Anthropic's clients send it in (ADR 0039). Neither header is passed on to the target.
 */
export function tokenMatcher(token: string): (headers: Headers) => boolean {
  const bearer = bearerMatcher(token);
  return (headers) => bearer(headers.get("authorization")) || (headers.has("x-api-key") && bearer(`Bearer ${headers.get("x-api-key")}`));
}

export const bearerMatches = (header: string | null, token: string): boolean => bearerMatcher(token)(header);

/**
 * The one-line start-up warning for a foreman anyone on the network can drive: it listens beyond
 * loopback with no token, and model management (/api/pull, /api/delete, /api/create, /api/push,
 * /api/copy, blob uploads) goes straight through to the target. Undefined when there is nothing
 * to warn about. A host name other than localhost counts as beyond loopback.
 */
export function openAccessWarning(host: string, token: string | undefined): string | undefined {
  if (token !== undefined) return undefined;
  if (listensOnLoopback(host)) return undefined;
  return `listening on ${host} with no FOREMAN_TOKEN: anyone who can reach foreman can run inference and manage the target's models (/api/pull, /api/delete, /api/create, …); set FOREMAN_TOKEN, or listen on 127.0.0.1`;
}

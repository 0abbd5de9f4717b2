// What a path forwarded to the target may hold (ADR 0028). Paths foreman does not route itself
// go to the target as sent, still percent-encoded. Ollama answers `/api/..%2f…` with a 404, but
// a proxy between foreman and the target that decodes %2F would resolve the dot segments and
// route it elsewhere (`/api/..%2fv1%2fmodels` → `/v1/models`). So a forwarded path with an
// encoded slash or backslash, or with a segment that decodes to `.` or `..`, is refused — except
// the encoded slashes of the routes whose last part is a name Ollama takes whole (a model name
// in /v1/models/{id}, a blob digest): there only the dot segments are. Pure.

/** Routes whose parameter may carry encoded slashes. */
const TAKES_ENCODED_SLASHES = ["/v1/models/", "/api/blobs/"];

/** Why `pathname` (percent-encoded, as sent) is not forwarded, or undefined when it may be. */
export function unforwardable(pathname: string): string | undefined {
  if (/%2f|%5c/i.test(pathname) && !TAKES_ENCODED_SLASHES.some((p) => pathname.startsWith(p))) return "an encoded slash";
  for (const segment of pathname.split("/")) {
    if (!segment.includes("%")) continue; // literal dot segments were resolved before routing
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      continue; // not valid percent-encoding: no proxy decodes it into a path either
    }
    if (decoded.split(/[/\\]/).some((part) => part === "." || part === "..")) return "a dot segment";
  }
  return undefined;
}

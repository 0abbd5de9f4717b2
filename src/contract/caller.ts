// Who asked, for the usage ledger (ADR 0036): the caller's address and the product its
// User-Agent names, and the tag it gave its work. X-Forwarded-For is believed only when the
// direct peer is a proxy the operator listed (FOREMAN_TRUSTED_PROXIES): anyone else could
// write any address there. Both values become rollup keys, so both are bounded. Pure.
import { parseIp, unmap } from "./ip.ts";
import { HttpError } from "./http-error.ts";

/** The longest tag, and the characters one may hold: printable ASCII. */
export const TAG_MAX = 64;
const TAG = new RegExp(`^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,${TAG_MAX - 2}}[\\x21-\\x7e])?$`);
const PRODUCT = /^[A-Za-z0-9._+-]{1,64}/;

/** An address in one spelling (IPv4-mapped IPv6 as IPv4), for comparing; null when it is not one. */
function canonical(text: string): string | null {
  const ip = parseIp(text.trim());
  return ip ? unmap(ip).join(".") : null;
}

/** FOREMAN_TRUSTED_PROXIES: comma-separated addresses; a string saying what is wrong otherwise. */
export function parseTrustedProxies(text: string): Set<string> | string {
  const out = new Set<string>();
  for (const entry of text.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const c = canonical(entry);
    if (c === null) return `"${entry}" is not an IP address`;
    out.add(c);
  }
  return out;
}

/**
 * The caller's address: the direct peer, or — when the peer is a trusted proxy — the nearest
 * address in X-Forwarded-For that is not one of the trusted proxies (read from the right, as
 * each proxy appends the address it saw).
 */
export function callerAddress(peer: string | undefined, forwardedFor: string | null, trusted: ReadonlySet<string>): string {
  const direct = peer === undefined ? null : canonical(peer);
  if (direct === null || !trusted.has(direct) || !forwardedFor) return peer ?? "";
  const hops = forwardedFor.split(",").map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonical(hops[i]!);
    if (hop === null) return peer ?? "";
    if (!trusted.has(hop)) return hops[i]!;
  }
  return peer ?? "";
}

/** The product a User-Agent names first (`ollama-js/0.5.1 (x64 …)` → `ollama-js`); "" when none. */
export function productOf(userAgent: string | null): string {
  return PRODUCT.exec(userAgent ?? "")?.[0] ?? "";
}

/** The client a request's work is counted under: its address, then its User-Agent product. */
export function clientOf(request: Request, peer: string | undefined, trusted: ReadonlySet<string>): string {
  const address = callerAddress(peer, request.headers.get("x-forwarded-for"), trusted);
  const product = productOf(request.headers.get("user-agent"));
  return [address, product].filter((part) => part !== "").join(" ");
}

/** A tag as given (`name` and the JSON pointer `field` say where, for the 400): printable ASCII, 1 to 64 characters, no space at either end. */
export function checkedTag(value: unknown, name: string, field = name): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || !TAG.test(value)) {
    throw new HttpError(400, `${name}: a tag is 1 to ${TAG_MAX} printable ASCII characters, without spaces at either end`, field);
  }
  return value;
}

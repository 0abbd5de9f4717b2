// The static bearer token clients must send when FOREMAN_TOKEN is set. Compared in
// constant time over SHA-256 digests, so neither the content nor the length leaks.
import { timingSafeEqual } from "node:crypto";

const digest = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest();

export function bearerMatches(header: string | null, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  const given = m ? m[1]!.trim() : "";
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}

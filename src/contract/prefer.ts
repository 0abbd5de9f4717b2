// RFC 7240 `Prefer: wait=N`, bounded so a caller cannot hold a connection forever.
export const MAX_WAIT_SECONDS = 300;

export function preferWaitSeconds(header: string | null): number | null {
  if (!header) return null;
  for (const pref of header.split(",")) {
    const m = /^\s*wait\s*=\s*"?(\d+)"?\s*$/i.exec(pref.split(";")[0] ?? "");
    if (m) return Math.min(Number(m[1]), MAX_WAIT_SECONDS);
  }
  return null;
}

// IP address text as Go's netip reads it: dotted IPv4 without leading zeros, IPv6 with an
// optional zone and a trailing dotted quad. Dependency-free and pure; the edge's Host guard and
// the webhook URL policy both read addresses through it, each with rules of its own on top.
export interface IpAddress {
  /** 4 bytes for IPv4, 16 for IPv6 (IPv4-mapped IPv6 stays 16). */
  bytes: number[];
  zone: string;
}

/** Go's netip.ParseAddr: dotted IPv4 without leading zeros, or IPv6 with an optional zone. */
export function parseIp(text: string): IpAddress | null {
  if (text.includes(":")) return parseIp6(text);
  const bytes = parseIp4(text);
  return bytes ? { bytes, zone: "" } : null;
}

function parseIp4(text: string): number[] | null {
  const fields = text.split(".");
  if (fields.length !== 4) return null;
  const bytes = fields.map((f) => (/^(0|[1-9]\d{0,2})$/.test(f) ? Number(f) : 256));
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function parseIp6(text: string): IpAddress | null {
  const percent = text.indexOf("%");
  const zone = percent >= 0 ? text.slice(percent + 1) : "";
  if (percent >= 0 && zone === "") return null;
  const body = percent >= 0 ? text.slice(0, percent) : text;
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIp4(piece);
        if (!v4) return null;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) out.push(parseInt(piece, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const words = [...head, ...Array<number>(missing).fill(0), ...tail];
  return { bytes: words.flatMap((w) => [w >> 8, w & 0xff]), zone };
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 bytes; others unchanged. */
export function unmap(ip: IpAddress): number[] {
  const b = ip.bytes;
  return b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? b.slice(12) : b;
}

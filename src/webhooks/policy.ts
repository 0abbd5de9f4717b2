// Which webhook destinations foreman will call. A pure function of the URL, the addresses its
// host stands for, and the allow list (FOREMAN_WEBHOOK_ALLOW) — no DNS, no sockets — so every
// rule is tested in a table. The shell (guard.ts) resolves names, asks here about every
// address, and connects only to an address judged here (ADR 0015).
import { parseIp as parseAddress, unmap } from "../contract/ip.ts";

/** An IPv4 or IPv6 address as a number; IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) IPv6 count as IPv4. */
interface Ip {
  v6: boolean;
  n: bigint;
}

/** A network: an address and its prefix length (an address alone is a /32 or /128). */
interface Net extends Ip {
  bits: number;
}

export interface AllowList {
  /** Host names, lower case, without a trailing dot. */
  names: ReadonlySet<string>;
  nets: readonly Net[];
  /** `*` is listed: every host the default policy allows stays allowed; the other entries only open more */
  any: boolean;
}

/** What rule 5 says of a host a list leaves out: that the list replaced the default policy, and how to keep it. */
export const NOT_LISTED = "is not in FOREMAN_WEBHOOK_ALLOW (a list replaces the default policy: only what it names is allowed; add * to keep every other host too, e.g. FOREMAN_WEBHOOK_ALLOW=*,127.0.0.1)";

/**
 * Addresses refused unless the allow list names them. Private LAN ranges (10/8, 172.16/12,
 * 192.168/16, fc00::/7) are not here: home receivers live there.
 */
const REFUSED: readonly { cidr: string; what: string }[] = [
  { cidr: "127.0.0.0/8", what: "a loopback address" },
  { cidr: "::1/128", what: "a loopback address" },
  // "this network": connecting to 0.0.0.0 reaches the local host
  { cidr: "0.0.0.0/8", what: "an unspecified address" },
  { cidr: "::/128", what: "an unspecified address" },
  { cidr: "169.254.0.0/16", what: "a link-local address (cloud metadata lives at 169.254.169.254)" },
  { cidr: "fe80::/10", what: "a link-local address" },
  { cidr: "224.0.0.0/4", what: "a multicast address" },
  { cidr: "ff00::/8", what: "a multicast address" },
  // metadata services outside link-local: AWS over IPv6, Alibaba Cloud
  { cidr: "fd00:ec2::254/128", what: "a cloud metadata address" },
  { cidr: "100.100.100.200/32", what: "a cloud metadata address" },
];
const REFUSED_NETS = REFUSED.map((r) => ({ net: parseNet(r.cidr)!, what: r.what }));

/**
 * An IPv4-compatible IPv6 address (::a.b.c.d, deprecated, yet some stacks still reach a.b.c.d
 * through it) as its IPv4 bytes; :: and ::1 are IPv6's own unspecified and loopback addresses.
 */
function uncompat(bytes: number[]): number[] {
  if (bytes.length !== 16 || bytes.slice(0, 12).some((x) => x !== 0)) return bytes;
  const v4 = bytes.slice(12);
  // ::0.0.0.0 and ::0.0.0.1 are :: and ::1
  return v4.slice(0, 3).every((x) => x === 0) && v4[3]! <= 1 ? bytes : v4;
}

/** An address as parsed, and whether it was written as an IPv6 one embedding IPv4 (mapped or compatible); null when it is not one. */
function readIp(text: string): { ip: Ip; mapped: boolean } | null {
  const address = parseAddress(text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, ""));
  if (!address) return null;
  const bytes = uncompat(unmap(address));
  return { ip: { v6: bytes.length === 16, n: bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n) }, mapped: bytes.length < address.bytes.length };
}

/** Parses an address (brackets and an IPv6 zone allowed); null when it is not one. */
function parseIp(text: string): Ip | null {
  return readIp(text)?.ip ?? null;
}

function parseNet(text: string): Net | null {
  const [addr, bits, extra] = text.split("/");
  if (extra !== undefined) return null;
  const read = readIp(addr!);
  if (!read) return null;
  const { ip, mapped } = read;
  const width = ip.v6 || mapped ? 128 : 32;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  const b = bits === undefined ? width : Number(bits);
  if (b > width) return null;
  // an IPv4-mapped IPv6 network is the IPv4 network it maps
  return { ...ip, bits: mapped ? Math.max(0, b - 96) : b };
}

function contains(net: Net, ip: Ip): boolean {
  if (net.v6 !== ip.v6) return false;
  const shift = BigInt((net.v6 ? 128 : 32) - net.bits);
  return ip.n >> shift === net.n >> shift;
}

/** `inner` lies wholly inside `outer`. */
function within(inner: Net, outer: Net): boolean {
  return inner.bits >= outer.bits && contains(outer, inner);
}

/** A host name as URLs carry it: lower case (IDN as punycode), without a trailing dot. */
function canonicalName(host: string): string {
  return host.toLowerCase().replace(/\.$/, "");
}

/**
 * Parses FOREMAN_WEBHOOK_ALLOW: comma-separated host names, IP addresses and CIDRs, and `*`
 * (the default policy kept, the others added to it). Returns the list, or what is wrong with it.
 */
export function parseAllowList(text: string): AllowList | string {
  const names = new Set<string>();
  const nets: Net[] = [];
  let any = false;
  for (const entry of text.split(",").map((e) => e.trim()).filter(Boolean)) {
    if (entry === "*") {
      any = true;
      continue;
    }
    const net = parseNet(entry);
    if (net) {
      nets.push(net);
      continue;
    }
    let url: URL | undefined;
    try {
      url = /[\s/@?#\\]/.test(entry) ? undefined : new URL(`http://${entry}/`);
    } catch {
      // not a host: reported below
    }
    if (!url || url.port !== "" || !/^[a-z0-9_.-]+$|^\[/.test(url.hostname)) return `"${entry}" is not a host name, an IP address, a CIDR or *`;
    // the URL parser canonicalises hosts (0x7f.1 is 127.0.0.1), so entries match URLs as parsed
    const ip = parseNet(url.hostname);
    if (ip) nets.push(ip);
    else names.add(canonicalName(url.hostname));
  }
  return { names, nets, any };
}

type ParsedUrl = { ok: true; url: URL; host: string; address: string | null } | { ok: false; reason: string };

/** Rules 1–3, on the URL alone. `address` is the host when it is a literal IP, else null (a name). */
export function parseWebhookUrl(raw: string): ParsedUrl {
  // 1. an absolute URL without whitespace or control characters (no header injection)
  if (/[\u0000-\u001f\u007f\s]/.test(raw)) return { ok: false, reason: "webhook URL must not contain whitespace or control characters" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "webhook URL is not a valid absolute URL" };
  }
  // 2. http or https only
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: `webhook URL must be http or https, not ${url.protocol.replace(":", "")}` };
  // 3. no credentials in the URL: they would be logged and listed; signing is the way
  if (url.username || url.password) return { ok: false, reason: "webhook URL must not carry credentials; sign with FOREMAN_WEBHOOK_SECRET instead" };
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { ok: true, url, host, address: parseIp(host) ? host : null };
}

/**
 * Rules 4–7: may foreman connect to `host` at `addresses`? `addresses` is the literal when
 * the host is an IP, every address a name resolved to, or null when a name could not be
 * resolved (then only the name is judged). Returns why not, or undefined when it may.
 */
export function judgeAddresses(host: string, addresses: readonly string[] | null, allow: AllowList): string | undefined {
  const ips = addresses?.map((a) => ({ text: a, ip: parseIp(a) }));
  // 4. a resolver answer that is not an address, or no address at all, is not a destination
  const bad = ips?.find((a) => a.ip === null);
  if (bad) return `webhook host ${host} resolved to "${bad.text}", which is not an IP address`;
  if (ips?.length === 0) return `webhook host ${host} has no address`;
  // 5. an allow list without * narrows: the host is listed by name, or every address lies in a listed address or CIDR
  if (!allow.any && allow.names.size + allow.nets.length > 0) {
    const named = allow.names.has(canonicalName(host));
    const listed = ips !== undefined && ips.every((a) => allow.nets.some((net) => contains(net, a.ip!)));
    if (!named && !listed) return `webhook host ${host} ${NOT_LISTED}`;
  }
  // 6. loopback, link-local, unspecified, multicast and cloud metadata addresses are refused
  //    unless an allow-list entry lying inside that same range names them (127.0.0.1 opens
  //    127.0.0.1; 0.0.0.0/0 or a host name opens none of them)
  for (const a of ips ?? []) {
    const range = REFUSED_NETS.find((r) => contains(r.net, a.ip!));
    if (!range) continue;
    const opened = allow.nets.some((net) => within(net, range.net) && contains(net, a.ip!));
    const where = a.text === host ? "" : ` resolves to ${a.text}, which`;
    if (!opened) return `webhook host ${host}${where} is ${range.what}; refused unless FOREMAN_WEBHOOK_ALLOW names it`;
  }
  // 7. everything else — public addresses and private LAN ranges — is allowed
  return undefined;
}

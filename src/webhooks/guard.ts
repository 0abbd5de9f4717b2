// The shell around the URL policy (policy.ts): resolves a webhook's host name, has every
// address judged, and hands the dispatcher requests pinned to the judged addresses. The
// connection goes to an address that was checked — the Host header and the TLS server name
// keep the URL's name — so a DNS answer that changes between check and connect (rebinding)
// cannot steer a delivery anywhere the policy refuses.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { judgeAddresses, parseWebhookUrl, type AllowList } from "./policy.ts";

/** A host name's addresses, in the order to try them. */
export type Resolver = (host: string) => Promise<string[]>;

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS), addresses in its preferred order. */
const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** How long a submission waits for DNS before judging the name alone. */
const SUBMISSION_DNS_MS = 2000;

/** One way to reach a receiver: where to connect, and the name to present there. */
export interface Pinned {
  /** The webhook URL with its host replaced by a judged address. */
  url: string;
  /** The Host header: the URL's host (and port) as written. */
  host: string;
  /** The TLS server name (SNI, certificate check) for https to a name; absent otherwise. */
  serverName?: string;
}

/** The URL aimed at `address`, presenting the URL's own name. */
export function pin(url: URL, address: string): Pinned {
  const bare = address.replace(/%.*$/, "");
  const hostname = new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`).hostname;
  const target = new URL(url.href);
  target.hostname = hostname;
  // the setter ignores what it cannot parse: never send to the name by accident
  if (target.hostname !== hostname) throw new Error(`cannot aim a request at ${address}`);
  const name = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const serverName = url.protocol === "https:" && !isIP(name) ? name.replace(/\.$/, "") : undefined;
  return serverName === undefined ? { url: target.href, host: url.host } : { url: target.href, host: url.host, serverName };
}

/** fetch's arguments for a request along `route`: to the address, with the URL's name as Host and TLS server name. */
export function pinnedRequest(route: Pinned, init: BunFetchRequestInit & { headers: Record<string, string> }): [string, BunFetchRequestInit] {
  const headers = { ...init.headers, host: route.host };
  return [route.url, route.serverName === undefined ? { ...init, headers } : { ...init, headers, tls: { serverName: route.serverName } }];
}

export type Admission =
  | { kind: "pinned"; routes: Pinned[] }
  /** The policy refuses the URL or one of its addresses: not worth retrying. */
  | { kind: "refused"; reason: string }
  /** The name did not resolve (now): worth retrying. */
  | { kind: "unresolved"; reason: string };

export class WebhookGuard {
  constructor(
    private readonly allow: AllowList,
    private readonly resolve: Resolver = systemResolver,
  ) {}

  /**
   * At submission: why the URL is refused, or undefined. A name that does not resolve within
   * a couple of seconds is judged on its name alone — every delivery resolves and judges it again.
   */
  async check(raw: string): Promise<string | undefined> {
    const parsed = parseWebhookUrl(raw);
    if (!parsed.ok) return parsed.reason;
    const addresses = parsed.address !== null ? [parsed.address] : await this.lookup(parsed.host, AbortSignal.timeout(SUBMISSION_DNS_MS)).catch(() => null);
    return judgeAddresses(parsed.host, addresses, this.allow);
  }

  /** At delivery: resolve, judge every address, and the requests to try (in resolver order). */
  async admit(raw: string, signal: AbortSignal): Promise<Admission> {
    const parsed = parseWebhookUrl(raw);
    if (!parsed.ok) return { kind: "refused", reason: parsed.reason };
    let addresses: string[];
    try {
      addresses = parsed.address !== null ? [parsed.address] : await this.lookup(parsed.host, signal);
    } catch (err) {
      return { kind: "unresolved", reason: `cannot resolve ${parsed.host}: ${(err as Error).message}` };
    }
    const refused = judgeAddresses(parsed.host, addresses, this.allow);
    if (refused) return { kind: "refused", reason: refused };
    return { kind: "pinned", routes: addresses.map((a) => pin(parsed.url, a)) };
  }

  private async lookup(host: string, signal: AbortSignal): Promise<string[]> {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new Error("no answer in time"));
      signal.addEventListener("abort", () => reject(new Error("no answer in time")), { once: true });
    });
    const addresses = await Promise.race([this.resolve(host), aborted]);
    if (addresses.length === 0) throw new Error("no address");
    return addresses;
  }
}

// Which webhook URLs foreman will call: http(s) only, no credentials or control characters
// in the URL, and — when FOREMAN_WEBHOOK_ALLOW is set — only the listed hosts or CIDRs.
import { BlockList, isIP } from "node:net";

export function webhookUrlChecker(allow: readonly string[]): (url: string) => string | undefined {
  const hosts = new Set<string>();
  const nets = new BlockList();
  for (const entry of allow) {
    const [addr, bits] = entry.split("/");
    const family = isIP(addr ?? "");
    if (family && bits !== undefined) nets.addSubnet(addr!, Number(bits), family === 6 ? "ipv6" : "ipv4");
    else if (family) nets.addAddress(addr!, family === 6 ? "ipv6" : "ipv4");
    else hosts.add(entry.toLowerCase());
  }
  return (raw) => {
    if (/[\u0000-\u001f\u007f\s]/.test(raw)) return "webhook URL must not contain whitespace or control characters";
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return "webhook URL is not a valid absolute URL";
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return `webhook URL must be http or https, not ${url.protocol.replace(":", "")}`;
    if (url.username || url.password) return "webhook URL must not carry credentials; sign with FOREMAN_WEBHOOK_SECRET instead";
    if (allow.length === 0) return undefined;
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    const family = isIP(host);
    const allowed = family ? nets.check(host, family === 6 ? "ipv6" : "ipv4") || hosts.has(host) : hosts.has(host);
    return allowed ? undefined : `webhook host ${host} is not in FOREMAN_WEBHOOK_ALLOW`;
  };
}

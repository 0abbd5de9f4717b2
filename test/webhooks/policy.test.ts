// The webhook URL policy as tables: every rule, the default refusals, the allow list's
// narrowing and its explicit openings, and the addresses written in disguise.
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { pin } from "../../src/webhooks/guard.ts";
import { judgeAddresses, parseAllowList, parseWebhookUrl, type AllowList } from "../../src/webhooks/policy.ts";

function allowList(text: string): AllowList {
  const allow = parseAllowList(text);
  if (typeof allow === "string") throw new Error(allow);
  return allow;
}

/** The URL rules, then the address rules on the literal or on what the name resolved to (null: unresolved). */
function judge(url: string, resolved: readonly string[] | null, allow = ""): string | undefined {
  const parsed = parseWebhookUrl(url);
  if (!parsed.ok) return parsed.reason;
  return judgeAddresses(parsed.host, parsed.address !== null ? [parsed.address] : resolved, allowList(allow));
}

const OK = undefined;

describe("webhook URL policy (rules 1–3: the URL)", () => {
  test.each([
    ["http://h/x\r\nX-Evil: 1", /whitespace or control characters/],
    ["http://h/x\u0000", /whitespace or control characters/],
    [" http://h/x", /whitespace or control characters/],
    ["not-a-url", /not a valid absolute URL/],
    ["/relative/path", /not a valid absolute URL/],
    ["ftp://h/x", /must be http or https, not ftp/],
    ["file:///etc/passwd", /must be http or https, not file/],
    ["javascript:alert(1)", /must be http or https, not javascript/],
    ["ws://h/x", /must be http or https, not ws/],
    ["http://user:secret@h/x", /must not carry credentials/],
    ["https://user@h/x", /must not carry credentials/],
  ])("%p is refused", (url, reason) => {
    expect(judge(url, ["192.168.1.5"])).toMatch(reason);
    expect(judge(url, ["192.168.1.5"])).not.toContain("secret");
  });
});

describe("webhook URL policy (rule 6: refused by default, rule 7: the rest allowed)", () => {
  test.each([
    ["http://127.0.0.1:8080/hook", "loopback"],
    ["http://127.1.2.3/", "loopback"],
    ["http://[::1]:9/", "loopback"],
    ["http://0.0.0.0:8080/", "unspecified"],
    ["http://0.1.2.3/", "unspecified"],
    ["http://[::]/", "unspecified"],
    ["http://169.254.169.254/latest/meta-data/", "link-local"],
    ["http://169.254.1.1/", "link-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[febf::1]/", "link-local"],
    ["http://224.0.0.1/", "multicast"],
    ["http://239.255.255.250:1900/", "multicast"],
    ["http://[ff02::1]/", "multicast"],
    ["http://[fd00:ec2::254]/", "cloud metadata"],
    ["http://100.100.100.200/", "cloud metadata"],
    // the same addresses in disguise: the URL parser and IPv4-mapped IPv6 unmask them
    ["http://2130706433/", "loopback"],
    ["http://0x7f.1/", "loopback"],
    ["http://0177.0.0.1/", "loopback"],
    ["http://[::ffff:127.0.0.1]/", "loopback"],
    ["http://[::ffff:a9fe:a9fe]/", "link-local"],
    ["http://[0:0:0:0:0:ffff:169.254.169.254]/", "link-local"],
    // IPv4-compatible IPv6 (deprecated, still routed by some stacks) unmasks the same way
    ["http://[::127.0.0.1]/", "loopback"],
    ["http://[::7f00:1]/", "loopback"],
    ["http://[::169.254.169.254]/", "link-local"],
    ["http://[::0.0.0.2]/", "unspecified"],
    ["http://[::]/", "unspecified"],
    ["http://[::1]/", "loopback"],
  ])("%p is refused as %s", (url, what) => {
    expect(judge(url, null)).toMatch(new RegExp(`is an? ${what}.*refused unless FOREMAN_WEBHOOK_ALLOW names it`));
  });

  test.each([
    ["http://10.1.2.3/hook"],
    ["http://172.16.0.1/"],
    ["http://172.31.255.254/"],
    ["http://192.168.1.10:5678/webhook/llm"],
    ["https://[fd12:3456::1]/"],
    ["http://100.64.0.7/"], // shared address space (Tailscale and the like)
    ["http://203.0.113.7/"],
    ["https://[2001:db8::5]/"],
    ["http://169.253.255.255/"],
    ["http://[fec0::1]/"],
  ])("%p is allowed", (url) => {
    expect(judge(url, null)).toBe(OK);
  });

  test("a name is judged by every address it resolves to", () => {
    expect(judge("http://localhost:5678/", ["127.0.0.1"])).toBe("webhook host localhost resolves to 127.0.0.1, which is a loopback address; refused unless FOREMAN_WEBHOOK_ALLOW names it");
    expect(judge("http://metadata.google.internal/", ["169.254.169.254"])).toMatch(/resolves to 169\.254\.169\.254, which is a link-local address \(cloud metadata/);
    // one bad address among good ones is enough to refuse (a rebinding trick)
    expect(judge("https://hooks.example.com/", ["203.0.113.7", "169.254.169.254"])).toMatch(/link-local/);
    expect(judge("https://hooks.example.com/", ["::ffff:127.0.0.1"])).toMatch(/loopback/);
    expect(judge("http://n8n.lan/hook", ["192.168.1.20", "fd00::20"])).toBe(OK);
    expect(judge("https://hooks.example.com/", ["203.0.113.7"])).toBe(OK);
  });

  test("rule 4: a resolver answer that is not an address, or none, is refused", () => {
    expect(judge("http://odd.lan/", ["not-an-ip"])).toMatch(/resolved to "not-an-ip", which is not an IP address/);
    expect(judge("http://odd.lan/", [])).toMatch(/has no address/);
  });

  test("an unresolved name is judged on its name alone: allowed without an allow list", () => {
    expect(judge("http://n8n.lan/hook", null)).toBe(OK);
  });
});

describe("webhook URL policy (rule 5: an allow list narrows; rule 6: it may open a refused address)", () => {
  test.each([
    // allow list, URL, resolved, verdict
    ["hooks.lan", "http://hooks.lan/x", ["192.168.1.5"], OK],
    ["hooks.lan", "http://HOOKS.LAN./x", ["192.168.1.5"], OK],
    ["HOOKS.LAN.", "http://hooks.lan/x", ["192.168.1.5"], OK],
    ["hooks.lan", "http://other.lan/x", ["192.168.1.5"], /host other\.lan is not in FOREMAN_WEBHOOK_ALLOW/],
    ["hooks.lan", "http://hooks.lan/x", null, OK],
    ["hooks.lan", "http://other.lan/x", null, /not in FOREMAN_WEBHOOK_ALLOW/],
    ["hooks.lan", "http://192.168.1.5/x", null, /not in FOREMAN_WEBHOOK_ALLOW/],
    ["192.168.1.0/24", "http://192.168.1.7:5678/", null, OK],
    ["192.168.1.0/24", "http://192.168.2.7/", null, /not in FOREMAN_WEBHOOK_ALLOW/],
    ["192.168.1.0/24", "http://n8n.lan/", ["192.168.1.20"], OK],
    ["192.168.1.0/24", "http://n8n.lan/", ["192.168.1.20", "10.0.0.1"], /not in FOREMAN_WEBHOOK_ALLOW/],
    ["192.168.1.0/24", "http://n8n.lan/", null, /not in FOREMAN_WEBHOOK_ALLOW/],
    ["10.0.0.0/8, hooks.lan", "http://10.200.3.4/", null, OK],
    ["2001:db8::/32", "http://[2001:db8::5]/", null, OK],
    ["2001:db8::/32", "http://[2001:db9::5]/", null, /not in FOREMAN_WEBHOOK_ALLOW/],
    ["::ffff:10.0.0.0/104", "http://10.9.9.9/", null, OK],
    // explicit openings: an entry inside a refused range opens what it names, no more
    ["127.0.0.1", "http://127.0.0.1:8080/", null, OK],
    ["127.0.0.1", "http://127.0.0.2/", null, /not in FOREMAN_WEBHOOK_ALLOW/],
    ["127.0.0.0/8", "http://127.0.0.2/", null, OK],
    ["0x7f.1", "http://127.0.0.1/", null, OK],
    ["::1", "http://[::1]:9/", null, OK],
    ["[::1]", "http://[::1]:9/", null, OK],
    ["::1", "http://127.0.0.1/", null, /not in FOREMAN_WEBHOOK_ALLOW/],
    ["169.254.169.254", "http://169.254.169.254/", null, OK],
    ["127.0.0.1", "http://receiver.test:9/", ["127.0.0.1"], OK],
    ["127.0.0.1", "http://localhost/", ["127.0.0.1", "::1"], /not in FOREMAN_WEBHOOK_ALLOW/],
    ["127.0.0.1,::1", "http://localhost/", ["127.0.0.1", "::1"], OK],
    // a broad CIDR or a name does not open loopback, link-local or metadata
    ["0.0.0.0/0", "http://203.0.113.7/", null, OK],
    ["0.0.0.0/0", "http://127.0.0.1/", null, /loopback/],
    ["0.0.0.0/0", "http://169.254.169.254/", null, /link-local/],
    ["::/0", "http://[::1]/", null, /loopback/],
    ["100.64.0.0/10", "http://100.100.100.200/", null, /cloud metadata/],
    ["localhost", "http://localhost/", ["127.0.0.1"], /localhost resolves to 127\.0\.0\.1, which is a loopback address/],
    ["rebind.test", "http://rebind.test/", ["169.254.169.254"], /link-local/],
  ] as const)("allow %p: %p resolved to %p", (allow, url, resolved, verdict) => {
    const got = judge(url, resolved, allow);
    if (verdict === OK) expect(got).toBe(OK);
    else expect(got).toMatch(verdict);
  });
});

describe("FOREMAN_WEBHOOK_ALLOW with *: the default policy kept, loopback added on top", () => {
  const judgeWith = (list: string, url: string, addresses: string[] | null = null) => {
    const parsed = parseWebhookUrl(url);
    if (!parsed.ok) throw new Error(parsed.reason);
    return judgeAddresses(parsed.host, addresses ?? (parsed.address ? [parsed.address] : null), allowList(list));
  };
  test.each([
    ["http://hooks.example.com/x", ["203.0.113.9"], undefined],
    ["http://192.168.1.20:5678/", null, undefined],
    ["http://127.0.0.1:9/hook", null, undefined],
    ["http://127.0.0.2:9/hook", null, /is a loopback address/],
    ["http://169.254.169.254/", null, /is a link-local address/],
    ["http://[::1]/", null, /is a loopback address/],
  ] as const)("*,127.0.0.1: %s", (url, addresses, verdict) => {
    const said = judgeWith("*,127.0.0.1", url, addresses as string[] | null);
    if (verdict === undefined) expect(said).toBeUndefined();
    else expect(said).toMatch(verdict);
  });

  test("without *, the list replaces the default policy, and the refusal says so and how to keep it", () => {
    expect(judgeWith("127.0.0.1", "http://hooks.example.com/x", ["203.0.113.9"])).toBe(
      "webhook host hooks.example.com is not in FOREMAN_WEBHOOK_ALLOW (a list replaces the default policy: only what it names is allowed; add * to keep every other host too, e.g. FOREMAN_WEBHOOK_ALLOW=*,127.0.0.1)",
    );
    expect(allowList("*")).toEqual({ names: new Set(), nets: [], any: true });
  });
});

describe("FOREMAN_WEBHOOK_ALLOW parsing", () => {
  test("host names (canonical), addresses and CIDRs, comma-separated with spaces", () => {
    const allow = allowList(" Hooks.LAN , 10.0.0.0/8,::1 ,[fd00::1], ,0x7f.1");
    expect([...allow.names]).toEqual(["hooks.lan"]);
    expect(allow.nets.map((n) => [n.v6, n.bits])).toEqual([
      [false, 8],
      [true, 128],
      [true, 128],
      [false, 32],
    ]);
    expect(allowList("")).toEqual({ names: new Set(), nets: [], any: false });
  });

  test.each(["10.0.0.0/33", "::1/129", "10.0.0.0/8/1", "10.0.0.0/x", "10.0.0.0/-1", "hooks.lan:8080", "http://hooks.lan", "a b", "*.lan", "user@hooks.lan", "hooks.lan/x"])("%p is refused, by name", (entry) => {
    expect(parseAllowList(`ok.lan,${entry}`)).toBe(`"${entry}" is not a host name, an IP address, a CIDR or *`);
  });

  test("a bad list stops the start with the option named", () => {
    const parsed = parseConfig(["--webhook-allow", "10.0.0.0/33"], {});
    expect(parsed).toEqual({ ok: false, error: 'invalid --webhook-allow "10.0.0.0/33": expected comma-separated host names, IP addresses and CIDRs ("10.0.0.0/33" is not a host name, an IP address, a CIDR or *)' });
    expect(parseConfig([], { FOREMAN_WEBHOOK_ALLOW: "127.0.0.1, hooks.lan" }).ok).toBe(true);
  });
});

describe("pinning a request to a checked address", () => {
  test.each([
    ["http://hooks.lan:8080/x?y=1", "192.168.1.5", { url: "http://192.168.1.5:8080/x?y=1", host: "hooks.lan:8080" }],
    ["http://hooks.lan/x", "192.168.1.5", { url: "http://192.168.1.5/x", host: "hooks.lan" }],
    ["https://hooks.lan/x", "192.168.1.5", { url: "https://192.168.1.5/x", host: "hooks.lan", serverName: "hooks.lan" }],
    ["https://hooks.lan.:8443/x", "fd00::5", { url: "https://[fd00::5]:8443/x", host: "hooks.lan.:8443", serverName: "hooks.lan" }],
    ["https://10.0.0.5/x", "10.0.0.5", { url: "https://10.0.0.5/x", host: "10.0.0.5" }],
    ["https://[fd00::5]/x", "fd00::5", { url: "https://[fd00::5]/x", host: "[fd00::5]" }],
    ["http://h/", "fe80::1%eth0", { url: "http://[fe80::1]/", host: "h" }],
    ["http://h/", "::ffff:127.0.0.1", { url: "http://[::ffff:7f00:1]/", host: "h" }],
  ])("%p at %p", (url, address, want) => {
    expect(pin(new URL(url), address)).toEqual(want);
  });
});

import { describe, expect, test } from "bun:test";
import {
  canonicalHeaderKey,
  DEFAULT_ORIGINS,
  edgeDecision,
  edgePolicy,
  hostRules,
  ipKey,
  listedOrigins,
  isLoopback,
  isPrivate,
  isUnspecified,
  originAllowed,
  parseOrigins,
  splitHostPort,
  type EdgePolicy,
  type HeaderPair,
  type HostRules,
  type OriginRules,
} from "../../src/ollama/origin-policy.ts";
import { parseIp } from "../../src/contract/ip.ts";

function rules(value = ""): OriginRules {
  const parsed = parseOrigins(value);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.rules;
}

const MACHINE = { listenHost: "127.0.0.1", hostname: "Build-Box", interfaceAddresses: ["127.0.0.1", "::1", "203.0.113.7", "fe80::1%eth0", "2001:db8::5"] };

function loopbackHosts(): HostRules {
  const hosts = hostRules(MACHINE);
  if (!hosts) throw new Error("expected the Host guard to be on");
  return hosts;
}

const policy = (origins = "", hosts: HostRules | null = loopbackHosts()): EdgePolicy => ({ origins: rules(origins), hosts });

const PREFLIGHT_HEADERS: HeaderPair[] = [
  [
    "Access-Control-Allow-Headers",
    "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,Openai-Beta,X-Stainless-Arch,X-Stainless-Async," +
      "X-Stainless-Custom-Poll-Interval,X-Stainless-Helper-Method,X-Stainless-Lang,X-Stainless-Os,X-Stainless-Package-Version," +
      "X-Stainless-Poll-Helper,X-Stainless-Retry-Count,X-Stainless-Runtime,X-Stainless-Runtime-Version,X-Stainless-Timeout",
  ],
  ["Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"],
  ["Access-Control-Max-Age", "43200"],
];

describe("origin list (OLLAMA_ORIGINS + Ollama's defaults)", () => {
  test("the defaults are Ollama's, in its order", () => {
    expect(DEFAULT_ORIGINS).toEqual([
      "http://localhost",
      "https://localhost",
      "http://localhost:*",
      "https://localhost:*",
      "http://127.0.0.1",
      "https://127.0.0.1",
      "http://127.0.0.1:*",
      "https://127.0.0.1:*",
      "http://0.0.0.0",
      "https://0.0.0.0",
      "http://0.0.0.0:*",
      "https://0.0.0.0:*",
      "app://*",
      "file://*",
      "tauri://*",
      "vscode-webview://*",
      "vscode-file://*",
    ]);
  });

  test.each([
    ["http://localhost", true],
    ["https://localhost:3000", true],
    ["http://127.0.0.1:8080", true],
    ["http://0.0.0.0:1", true],
    ["app://anything", true],
    ["file://", true],
    ["tauri://localhost", true],
    ["vscode-webview://abc", true],
    ["vscode-file://vscode-app", true],
    ["http://example.com", false],
    ["https://localhost.evil.com", false],
    ["http://LOCALHOST", false],
    ["chrome-extension://abc", false],
    ["null", false],
  ])("default list: %s → %p", (origin, allowed) => {
    expect(originAllowed(rules(), origin)).toBe(allowed);
  });

  test("the port wildcard is a plain prefix match, as in gin-contrib/cors", () => {
    expect(originAllowed(rules(), "http://localhost:evil.example")).toBe(true);
  });

  test("extra entries: exact, lower-cased when configured, wildcards on either side or inside", () => {
    const r = rules("https://App.Example.com,http://*.corp.test,https://api.*,chrome-extension://abc,*.example.org");
    expect(originAllowed(r, "https://app.example.com")).toBe(true);
    expect(originAllowed(r, "https://App.Example.com")).toBe(false);
    expect(originAllowed(r, "http://x.corp.test")).toBe(true);
    expect(originAllowed(r, "https://x.corp.test")).toBe(false);
    expect(originAllowed(r, "https://api.anything")).toBe(true);
    expect(originAllowed(r, "chrome-extension://abc")).toBe(true);
    expect(originAllowed(r, "moz-extension://abc")).toBe(false);
    expect(originAllowed(r, "https://www.example.org")).toBe(true);
  });

  test("* allows every origin", () => {
    const r = rules("*");
    expect(r.allowAll).toBe(true);
    expect(originAllowed(r, "https://anything.example")).toBe(true);
  });

  test("the whole value is trimmed of spaces and quotes like envconfig.Var, entries are not", () => {
    expect(originAllowed(rules(` "https://a.example" `), "https://a.example")).toBe(true);
    // A space after a comma makes the entry start with " https://": gin-contrib/cors refuses it.
    expect(parseOrigins("https://a.example, https://b.example")).toEqual({
      ok: false,
      error: "bad origin: origins must contain '*' or include http://,https://,chrome-extension://,safari-extension://,moz-extension://,ms-browser-extension://",
    });
    // With a * the entry passes validation but its prefix keeps the space, so it never matches.
    expect(originAllowed(rules("https://a.example, https://*.b.example"), "https://x.b.example")).toBe(false);
  });

  test("foreman's reading of FOREMAN_ORIGINS trims each entry and drops empty ones before Ollama's rules", () => {
    expect(listedOrigins(" https://a.example , https://*.b.example,, ")).toBe("https://a.example,https://*.b.example");
    expect(listedOrigins("")).toBe("");
    expect(originAllowed(rules(listedOrigins("https://a.example, https://*.b.example")), "https://x.b.example")).toBe(true);
    expect(parseOrigins(listedOrigins("https://a.example,"))).toMatchObject({ ok: true });
  });

  test("entries gin-contrib/cors refuses at startup are errors", () => {
    expect(parseOrigins("example.com")).toMatchObject({ ok: false, error: expect.stringMatching(/^bad origin:/) });
    expect(parseOrigins("https://a.example,")).toMatchObject({ ok: false, error: expect.stringMatching(/^bad origin:/) });
    expect(parseOrigins("ws://a.example")).toMatchObject({ ok: false });
    expect(parseOrigins("https://*.*.example")).toEqual({ ok: false, error: "only one * is allowed" });
    expect(parseOrigins("")).toMatchObject({ ok: true });
  });

  test("canonical header keys as Go writes them", () => {
    expect(canonicalHeaderKey("OpenAI-Beta")).toBe("Openai-Beta");
    expect(canonicalHeaderKey("x-stainless-os")).toBe("X-Stainless-Os");
    expect(canonicalHeaderKey("content-type")).toBe("Content-Type");
  });
});

describe("CORS decisions", () => {
  const req = (origin: string | null, method = "POST", host = "127.0.0.1:11434") => ({ method, origin, host });

  test("no Origin, or Origin equal to http(s)://Host: CORS is not applied", () => {
    expect(edgeDecision(req(null), policy())).toEqual({ kind: "pass", headers: [] });
    expect(edgeDecision(req("http://127.0.0.1:11434"), policy())).toEqual({ kind: "pass", headers: [] });
    expect(edgeDecision(req("https://127.0.0.1:11434"), policy())).toEqual({ kind: "pass", headers: [] });
    expect(edgeDecision(req("http://localhost:11434", "POST", "localhost:11434"), policy())).toEqual({ kind: "pass", headers: [] });
  });

  test("an origin off the list is 403 with no headers, even for OPTIONS", () => {
    expect(edgeDecision(req("https://evil.example"), policy())).toEqual({ kind: "forbidden", headers: [] });
    expect(edgeDecision(req("https://evil.example", "OPTIONS"), policy())).toEqual({ kind: "forbidden", headers: [] });
  });

  test("an allowed origin on a normal request: Vary and the echoed origin", () => {
    expect(edgeDecision(req("http://localhost:3000"), policy())).toEqual({
      kind: "pass",
      headers: [
        ["Vary", "Origin"],
        ["Access-Control-Allow-Origin", "http://localhost:3000"],
      ],
    });
  });

  test("preflight from an allowed origin: 204 with gin-contrib/cors's headers, before the Host guard", () => {
    expect(edgeDecision(req("http://localhost:3000", "OPTIONS", "evil.example"), policy())).toEqual({
      kind: "preflight",
      headers: [
        ...PREFLIGHT_HEADERS,
        ["Access-Control-Allow-Origin", "http://localhost:3000"],
        ["Vary", "Origin"],
        ["Vary", "Access-Control-Request-Method"],
        ["Vary", "Access-Control-Request-Headers"],
      ],
    });
  });

  test("foreman's own routes: its own request headers allowed (Idempotency-Key, Prefer, Last-Event-ID), the ones its clients read exposed", () => {
    const own = { ...req("http://localhost:3000", "OPTIONS"), own: true };
    const preflight = edgeDecision(own, policy());
    expect(preflight.kind).toBe("preflight");
    const allowed = preflight.headers.find(([name]) => name === "Access-Control-Allow-Headers")![1].split(",");
    expect(allowed).toEqual(expect.arrayContaining(["Authorization", "Content-Type", "Idempotency-Key", "Prefer", "Last-Event-ID"]));
    expect(preflight.headers.filter(([name]) => name !== "Access-Control-Allow-Headers")).toEqual(
      edgeDecision(req("http://localhost:3000", "OPTIONS"), policy()).headers.filter(([name]) => name !== "Access-Control-Allow-Headers"),
    );
    const reply = edgeDecision({ ...req("http://localhost:3000"), own: true }, policy());
    expect(reply).toEqual({
      kind: "pass",
      headers: [
        ["Vary", "Origin"],
        ["Access-Control-Allow-Origin", "http://localhost:3000"],
        ["Access-Control-Expose-Headers", "Location,Preference-Applied,Retry-After,Idempotent-Replayed,Server-Timing,X-Request-Id"],
      ],
    });
  });

  test("with * the origin is not echoed: Access-Control-Allow-Origin is *, no Vary", () => {
    expect(edgeDecision(req("https://x.example"), policy("*"))).toEqual({ kind: "pass", headers: [["Access-Control-Allow-Origin", "*"]] });
    expect(edgeDecision(req("https://x.example", "OPTIONS"), policy("*"))).toEqual({
      kind: "preflight",
      headers: [...PREFLIGHT_HEADERS, ["Access-Control-Allow-Origin", "*"]],
    });
  });

  test("an allowed origin to a forbidden Host: 403, the CORS headers already set stay", () => {
    expect(edgeDecision(req("http://localhost:3000", "GET", "evil.example"), policy())).toEqual({
      kind: "forbidden",
      headers: [
        ["Vary", "Origin"],
        ["Access-Control-Allow-Origin", "http://localhost:3000"],
      ],
    });
  });
});

describe("Host guard (loopback listeners only)", () => {
  const host = (h: string, method = "GET") => edgeDecision({ method, origin: null, host: h }, policy());

  test.each([
    "",
    "localhost",
    "LOCALHOST:11434",
    "build-box",
    "Build-Box:11434",
    "app.localhost",
    "printer.local:631",
    "db.internal",
    "127.0.0.1:11434",
    "127.8.9.10",
    "[::1]:11434",
    "::1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1:80",
    "[fd00::1]:80",
    "0.0.0.0",
    "[::]:11434",
    "[::ffff:127.0.0.1]:1",
    "[::ffff:10.0.0.1]:1",
    "203.0.113.7:11434",
    "[2001:db8::5]:11434",
  ])("allowed: %p", (h) => {
    expect(host(h)).toEqual({ kind: "pass", headers: [] });
  });

  test.each([
    "evil.example",
    "evil.example:11434",
    "localhost.evil.example",
    "local",
    "8.8.8.8",
    "172.32.0.1",
    "[2001:db8::6]:1",
    "[fe80::1%eth0]:1",
    "[::1]",
    "[::ffff:0.0.0.0]:1",
    "127.000.0.1",
    "[::ffff:203.0.113.7]:1",
  ])("forbidden: %p", (h) => {
    expect(host(h)).toEqual({ kind: "forbidden", headers: [] });
  });

  test("OPTIONS to an allowed name is answered 204; to an allowed IP it goes on to the route", () => {
    expect(host("localhost:11434", "OPTIONS")).toEqual({ kind: "preflight", headers: [] });
    expect(host("foo.internal", "OPTIONS")).toEqual({ kind: "preflight", headers: [] });
    expect(host("127.0.0.1:11434", "OPTIONS")).toEqual({ kind: "pass", headers: [] });
    expect(host("evil.example", "OPTIONS")).toEqual({ kind: "forbidden", headers: [] });
  });

  test("off unless the listener is loopback", () => {
    expect(hostRules({ ...MACHINE, listenHost: "0.0.0.0" })).toBeNull();
    expect(hostRules({ ...MACHINE, listenHost: "192.168.1.5" })).toBeNull();
    expect(hostRules({ ...MACHINE, listenHost: "::" })).toBeNull();
    expect(hostRules({ ...MACHINE, listenHost: "::1" })).not.toBeNull();
    expect(hostRules({ ...MACHINE, listenHost: "[::1]" })).not.toBeNull();
    expect(hostRules({ ...MACHINE, listenHost: "localhost" })).not.toBeNull();
    expect(hostRules({ ...MACHINE, listenHost: "127.0.0.2" })).not.toBeNull();
    expect(edgeDecision({ method: "GET", origin: null, host: "evil.example" }, policy("", null))).toEqual({ kind: "pass", headers: [] });
  });
});

describe("edgePolicy", () => {
  test("builds both halves, or reports the origin error", () => {
    const built = edgePolicy("https://a.example", MACHINE);
    expect(built.ok && built.policy.hosts?.hostname).toBe("build-box");
    expect(built.ok && originAllowed(built.policy.origins, "https://a.example")).toBe(true);
    expect(edgePolicy("a.example", MACHINE)).toMatchObject({ ok: false, error: expect.stringMatching(/^bad origin/) });
    const open = edgePolicy("", { ...MACHINE, listenHost: "0.0.0.0" });
    expect(open.ok && open.policy.hosts).toBeNull();
  });
});

describe("Go's address parsing", () => {
  test("net.SplitHostPort", () => {
    expect(splitHostPort("a:1")).toBe("a");
    expect(splitHostPort("[::1]:1")).toBe("::1");
    expect(splitHostPort(":1")).toBe("");
    expect(splitHostPort("a")).toBeNull();
    expect(splitHostPort("::1")).toBeNull();
    expect(splitHostPort("[::1]")).toBeNull();
    expect(splitHostPort("[::1]x:1")).toBeNull();
    expect(splitHostPort("a]:1")).toBeNull();
  });

  test("netip.ParseAddr", () => {
    expect(parseIp("1.2.3.4")).toEqual({ bytes: [1, 2, 3, 4], zone: "" });
    expect(parseIp("01.2.3.4")).toBeNull();
    expect(parseIp("1.2.3")).toBeNull();
    expect(parseIp("256.1.1.1")).toBeNull();
    expect(parseIp("::")).toEqual({ bytes: Array(16).fill(0), zone: "" });
    expect(parseIp("::ffff:1.2.3.4")?.bytes.slice(10)).toEqual([255, 255, 1, 2, 3, 4]);
    expect(parseIp("fe80::1%eth0")?.zone).toBe("eth0");
    expect(parseIp("fe80::1%")).toBeNull();
    expect(parseIp("1::2::3")).toBeNull();
    expect(parseIp("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(parseIp("12345::")).toBeNull();
    expect(parseIp("example.com")).toBeNull();
    expect(parseIp("")).toBeNull();
  });

  test("classification follows netip (IPv4-mapped addresses unmapped, except for unspecified)", () => {
    const ip = (s: string) => parseIp(s)!;
    expect(isLoopback(ip("::ffff:127.0.0.1"))).toBe(true);
    expect(isPrivate(ip("::ffff:192.168.0.1"))).toBe(true);
    expect(isPrivate(ip("fc00::1"))).toBe(true);
    expect(isPrivate(ip("fe00::1"))).toBe(false);
    expect(isUnspecified(ip("::ffff:0.0.0.0"))).toBe(false);
    expect(ipKey(ip("::ffff:1.2.3.4"))).not.toBe(ipKey(ip("1.2.3.4")));
    expect(ipKey(ip("2001:db8:0:0::5"))).toBe(ipKey(ip("2001:DB8::5")));
  });
});

// Why the target cannot be reached, said where people look: the poller's "target is down" log
// line, GET /status (target.reason, target.hint) and `foreman status` — connection refused,
// timed out, DNS — with what to try (a Mac's Ollama listens on 127.0.0.1 unless told otherwise).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import type { Status } from "../../clients/ts/types.ts";
import { createLogger } from "../../src/ops/log.ts";
import { TargetTimeout, TargetUnreachable, unreachableCause, unreachableHint } from "../../src/target/errors.ts";
import { BUN, MAIN, perTest, waitFor } from "../harness.ts";

setDefaultTimeout(30_000);

const MAC_HINT = "launchctl setenv OLLAMA_HOST 0.0.0.0:11434";

describe("unreachableCause and unreachableHint (pure)", () => {
  test.each([
    [Object.assign(new TypeError("ECONNREFUSED: Unable to connect. Is the computer able to access the url?"), { code: "ECONNREFUSED" }), "connection refused"],
    [Object.assign(new TypeError("fetch failed"), { code: "ConnectionRefused" }), "connection refused"],
    [Object.assign(new TypeError("getaddrinfo ENOTFOUND mac.lan"), { code: "ENOTFOUND" }), "DNS: host name not found"],
    [Object.assign(new Error("x"), { code: "EAI_AGAIN" }), "DNS: host name not found"],
    [new TargetTimeout("the target sent nothing for 5000 ms"), "timed out"],
    [Object.assign(new Error("x"), { code: "EHOSTUNREACH" }), "no route to host"],
    [Object.assign(new Error("The socket connection was closed unexpectedly"), { code: "ECONNRESET" }), "connection reset"],
    [new TargetUnreachable("target x is unreachable", { cause: Object.assign(new Error("y"), { code: "ECONNREFUSED" }) }), "connection refused"],
  ])("error %# → its cause in words, without the runtime's wording", (err, cause) => {
    expect(unreachableCause(err)).toBe(cause);
  });

  test("the Mac step for a target on another machine that refuses or does not answer; Ollama's start for this machine; the name for DNS", () => {
    for (const cause of ["connection refused", "timed out"]) expect(unreachableHint(cause, "http://mac.lan:11434")).toContain(MAC_HINT);
    expect(unreachableHint("connection refused", "http://127.0.0.1:11434")).toContain("ollama serve");
    expect(unreachableHint("DNS: host name not found", "http://mac.lan:11434")).toContain("check the host name in FOREMAN_TARGET");
    expect(unreachableHint("connection reset", "http://mac.lan:11434")).toBeUndefined();
  });
});

describe("a target that cannot be reached", () => {
  const start = perTest();

  async function downFor(target: string, overrides = {}) {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: "info", format: "json", write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const foreman = await start.foreman({ target, pollIntervalMs: 50, connectTimeoutMs: 200, ...overrides }, { log });
    const status = await waitFor(async () => {
      const s = (await (await fetch(`${foreman.url}/status`)).json()) as Status;
      return s.target.up === false ? s : null;
    }, { what: "the target to be seen down" });
    const down = await waitFor(() => lines.find((l) => l.msg === "target is down"), { what: "the 'target is down' log line" });
    return { foreman, status, down };
  }

  test("connection refused: in the log line, in /status and in `foreman status`, with the hint", async () => {
    const { foreman, status, down } = await downFor("http://127.0.0.1:9");
    expect(down.reason).toBe("liveness probe: connection refused");
    expect(down.hint).toContain("ollama serve");
    expect(status.target.reason).toBe("liveness probe: connection refused");
    expect(status.target.hint).toContain("ollama serve");
    const proc = Bun.spawn([BUN, MAIN, "status", "--url", foreman.url], { stdout: "pipe", stderr: "pipe" });
    const screen = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(screen).toMatch(/^target    http:\/\/127\.0\.0\.1:9  DOWN since .*\n          liveness probe: connection refused\n          hint: is Ollama running/m);
  });

  test("a target that accepts and never answers: timed out", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    start.defer(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const { status, down } = await downFor(`http://127.0.0.1:${(silent.address() as { port: number }).port}`);
    expect(down.reason).toBe("liveness probe: timed out");
    expect(status.target.reason).toBe("liveness probe: timed out");
  });

  test("a host name that does not resolve: DNS", async () => {
    const { status } = await downFor("http://no-such-host.invalid:11434");
    expect(status.target.reason).toBe("liveness probe: DNS: host name not found");
    expect(status.target.hint).toContain("check the host name in FOREMAN_TARGET");
  });
});

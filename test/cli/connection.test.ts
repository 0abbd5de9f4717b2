// How the CLI finds foreman and what it says when it cannot: --url and FOREMAN_URL read as
// OLLAMA_HOST is (host:port, :port, host), one sentence for "nothing there" without the
// runtime's wording, and an address that answers like Ollama is named as such.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { parseForemanUrl } from "../../src/cli/connection.ts";
import { BUN, MAIN, sharedStack } from "../harness.ts";

setDefaultTimeout(30_000);

describe("parseForemanUrl (pure)", () => {
  test.each([
    ["http://mac.lan:8080", "http://mac.lan:8080"],
    ["http://mac.lan:8080/", "http://mac.lan:8080"],
    ["mac.lan:9000", "http://mac.lan:9000"],
    ["mac.lan", "http://mac.lan:8080"],
    [":9000", "http://127.0.0.1:9000"],
    ["", "http://127.0.0.1:8080"],
    ["  10.0.0.5:8081 ", "http://10.0.0.5:8081"],
    ["[::1]:9000", "http://[::1]:9000"],
    ["[::1]", "http://[::1]:8080"],
    ["https://foreman.example", "https://foreman.example"],
    ["http://mac.lan", "http://mac.lan"],
    ["https://proxy.example/foreman/", "https://proxy.example/foreman"],
    ["mac.lan:9000/foreman", "http://mac.lan:9000/foreman"],
  ])("%p → %p", (written, url) => {
    expect(parseForemanUrl(written, 8080)).toEqual({ ok: true, url });
  });

  test.each([["ftp://mac.lan"], ["mac.lan:99999"], ["mac.lan:http"]])("%p is refused with what is expected", (written) => {
    const parsed = parseForemanUrl(written, 8080);
    expect(parsed.ok).toBe(false);
  });
});

describe("the CLI's connection", () => {
  const stack = sharedStack();

  async function foreman(args: string[], env: Record<string, string> = {}) {
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("FOREMAN_")) clean[k] = v;
    const proc = Bun.spawn([BUN, MAIN, ...args], { env: { ...clean, ...env }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { stdout, stderr, code };
  }

  test("nothing listening: one sentence that says what to do, no runtime wording, exit 3", async () => {
    for (const args of [["status", "--url", "127.0.0.1:9"], ["jobs", "ls", "--url", "http://127.0.0.1:9"], ["ps", "--url", ":9"], ["pull", "llama3.2", "--url", "127.0.0.1:9"]]) {
      const r = await foreman(args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 3, stderr: `foreman ${args[0]}${args[0] === "jobs" ? " ls" : ""}: cannot reach foreman at http://127.0.0.1:9 — is it running? (\`foreman serve\`)\n` });
    }
  });

  test("FOREMAN_URL and --url as host:port reach foreman", async () => {
    const hostport = new URL(stack.url).host;
    const fromEnv = await foreman(["status", "--json"], { FOREMAN_URL: hostport });
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toHaveProperty("worker");
    const fromFlag = await foreman(["jobs", "ls", "--url", hostport]);
    expect(fromFlag.code).toBe(0);
  });

  test("a bad --url is a usage error naming it", async () => {
    const r = await foreman(["status", "--url", "mac.lan:99999"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("invalid --url:");
  });

  test("an address that answers like Ollama (the target itself) is named as such", async () => {
    const ollama = new URL(stack.sim.url).host;
    for (const args of [["status"], ["jobs", "ls"]]) {
      const r = await foreman([...args, "--url", ollama]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`http://${ollama} answers like an Ollama server, not like foreman`);
    }
  });
});

// `foreman models` and `foreman ps` read like `ollama list` and `ollama ps`: the same columns,
// sizes and times as Ollama's format package writes them (its own test cases below).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { humanBytes, humanTime, shortDuration } from "../../src/cli/human.ts";
import { modelsTable, processor, psTable } from "../../src/cli/models.ts";
import { startStack, waitFor, type Stack, runCli } from "../harness.ts";

setDefaultTimeout(60_000);

describe("Ollama's formats", () => {
  test.each([
    [0, "0 B"],
    [1, "1 B"],
    [999, "999 B"],
    [1000, "1 KB"],
    [1500, "1.5 KB"],
    [999999, "999 KB"],
    [1000000, "1 MB"],
    [1500000, "1.5 MB"],
    [999999999, "999 MB"],
    [1000000000, "1 GB"],
    [1500000000, "1.5 GB"],
    [999999999999, "999 GB"],
    [1000000000000, "1 TB"],
    [1500000000000, "1.5 TB"],
    [1999999999999, "2.0 TB"],
    [1234, "1.2 KB"],
    [1234567, "1.2 MB"],
    [1234567890, "1.2 GB"],
  ])("humanBytes(%d) is %p (format/bytes_test.go)", (n, text) => {
    expect(humanBytes(n)).toBe(text);
  });

  test("humanTime (format/time_test.go), and the steps between", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    const h = 3_600_000;
    expect(humanTime(null, now, "never")).toBe("never");
    expect(humanTime(now + 48 * h, now)).toBe("2 days from now");
    expect(humanTime(now - 48 * h, now)).toBe("2 days ago");
    expect(humanTime(now + 800, now)).toBe("Less than a second from now");
    expect(humanTime(now + 200 * 365 * 24 * h, now)).toBe("Forever");
    expect([1_000, 30_000, 60_000, 4 * 60_000 + 59_000, h, 5 * h, 20 * 24 * h, 90 * 24 * h, 800 * 24 * h].map((d) => humanTime(now - d, now))).toEqual([
      "1 second ago",
      "30 seconds ago",
      "About a minute ago",
      "4 minutes ago",
      "About an hour ago",
      "5 hours ago",
      "2 weeks ago",
      "3 months ago",
      "2 years ago",
    ]);
    expect(humanTime("2026-11-26T12:04:30Z", now)).toBe("4 minutes from now");
  });

  test("shortDuration: two units at most, as the pull bar shows time left", () => {
    expect([0, 45_000, 90_000, 3_600_000 + 5 * 60_000, 100 * 3_600_000].map(shortDuration)).toEqual(["0s", "45s", "1m30s", "1h5m", "99h+"]);
  });

  test("processor, as ollama ps says it", () => {
    expect([processor(100, 0), processor(100, 100), processor(100, 52), processor(100, 120), processor(0, 5)]).toEqual(["100% CPU", "100% GPU", "48%/52% CPU/GPU", "Unknown", "Unknown"]);
  });
});

describe("the tables", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  test("models: NAME ID SIZE MODIFIED, four spaces apart; a prefix filters", () => {
    const models = [
      { name: "llama3.2:latest", digest: "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72", size: 2_019_393_189, modified_at: "2026-11-12T09:00:00Z" },
      { name: "nomic-embed-text:latest", digest: "sha256:0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f", size: 274_302_450, modified_at: "2026-11-26T11:57:00Z" },
      { name: "gpt-oss:120b-cloud", digest: "569662207105", remote_model: "gpt-oss:120b", modified_at: "2026-11-26T08:00:00Z" },
    ];
    expect(modelsTable(models, now)).toBe(
      [
        "NAME                       ID              SIZE      MODIFIED",
        "llama3.2:latest            a80c4f17acd5    2.0 GB    2 weeks ago",
        "nomic-embed-text:latest    0a109f422b47    274 MB    3 minutes ago",
        "gpt-oss:120b-cloud         569662207105    -         4 hours ago",
        "",
      ].join("\n"),
    );
    expect(modelsTable(models, now, "NOMIC").split("\n")).toHaveLength(3);
  });

  test("ps: NAME ID SIZE PROCESSOR CONTEXT UNTIL", () => {
    const running = [
      { name: "llama3.2:latest", digest: "a80c4f17acd5", size: 3_500_000_000, size_vram: 3_500_000_000, context_length: 4096, expires_at: "2026-11-26T12:04:30Z" },
      { name: "qwen2.5:latest", digest: "845dbda0ea48", size: 6_000_000_000, size_vram: 3_000_000_000, context_length: 32768, expires_at: "2026-11-26T11:59:59Z" },
    ];
    expect(psTable(running, now)).toBe(
      [
        "NAME               ID              SIZE      PROCESSOR          CONTEXT    UNTIL",
        "llama3.2:latest    a80c4f17acd5    3.5 GB    100% GPU           4096       4 minutes from now",
        "qwen2.5:latest     845dbda0ea48    6 GB      50%/50% CPU/GPU    32768      Stopping...",
        "",
      ].join("\n"),
    );
  });
});

describe("foreman models and ps against foreman", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ foreman: { pollIntervalMs: 100 } });
  });
  afterAll(async () => {
    await stack.stop();
  });
  const foreman = (args: string[]) => runCli(stack.url, args);

  test("models lists the target's models; --json is its /api/tags", async () => {
    const tags = (await (await fetch(`${stack.sim.url}/api/tags`)).json()) as { models: { name: string; digest: string }[] };
    const r = await foreman(["models"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME +ID +SIZE +MODIFIED$/);
    expect(lines.slice(1).map((l) => l.split(/ {4,}/).slice(0, 2))).toEqual(tags.models.map((m) => [m.name, m.digest.slice(0, 12)]));
    expect(JSON.parse((await foreman(["models", "--json"])).stdout)).toEqual(tags);
  });

  test("ps shows what is resident and until when", async () => {
    expect((await foreman(["ps"])).stdout).toMatch(/^NAME +ID +SIZE +PROCESSOR +CONTEXT +UNTIL\n$/);
    await fetch(`${stack.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "llama3.2", prompt: "hi", stream: false }) });
    const r = await foreman(["ps"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")[1]).toMatch(/^llama3\.2:latest {4,}[0-9a-f]{12} {4,}\d(\.\d)? GB {4,}100% GPU {4,}\d+ {4,}\d+ minutes from now$/);
  });

  test("while the target sleeps, models shows foreman's copy and says so; ps exits 3", async () => {
    await stack.sim.setFaults({ asleep: true });
    try {
      await waitFor(async () => ((await (await fetch(`${stack.url}/status`)).json()) as { target: { up: boolean } }).target.up === false, { what: "foreman to see the target down" });
      const r = await foreman(["models"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("llama3.2:latest");
      expect(r.stderr).toMatch(/^foreman models: the target is not answering; this is foreman's copy from .* ago\n$/);
      const ps = await foreman(["ps"]);
      expect(ps.code).toBe(3);
      expect(ps.stderr).toStartWith("foreman ps: HTTP 503");
    } finally {
      await stack.sim.setFaults({ asleep: false });
    }
  });
});

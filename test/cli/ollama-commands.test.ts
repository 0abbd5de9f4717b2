// Ollama's command names work on foreman as a person who knows `ollama` types them: `list`/`ls`
// and `version` as aliases, `jobs show`, and `show`, `stop` and `rm` doing what Ollama's do,
// through foreman; a mistyped command gets a suggestion; a refused token says what to do;
// `jobs ls --limit 0` is a usage mistake.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { closest, editDistance } from "../../src/cli/suggest.ts";
import { showText } from "../../src/cli/models.ts";
import { BUN, MAIN, sharedStack, startStack } from "../harness.ts";

setDefaultTimeout(60_000);

const stack = sharedStack({ sim: { responseTokens: 5 } });

async function foreman(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([BUN, MAIN, ...args], { env: { ...process.env, FOREMAN_URL: stack.url, FOREMAN_TOKEN: "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

const simJson = async (path: string, body?: unknown) => (await fetch(`${stack.sim.url}${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) })).json();

describe("did you mean", () => {
  test("the closest name within a third of its length in edits, or one that starts with it", () => {
    expect(editDistance("stauts", "status")).toBe(2);
    expect(closest("stauts", ["serve", "status", "sim"])).toBe("status");
    expect(closest("pul", ["pull", "ps"])).toBe("pull");
    expect(closest("frobnicate", ["serve", "status"])).toBeUndefined();
    expect(closest("llama3", ["mistral", "llama3.2", "llama3.2:1b"])).toBe("llama3.2");
  });

  test("a mistyped command: exit 2, one line with the suggestion; a group's command too", async () => {
    expect(await foreman(["stauts"])).toEqual({ stdout: "", stderr: 'foreman: unknown command "stauts"; did you mean "status"? (see foreman --help)\n', code: 2 });
    expect((await foreman(["jobs", "wiat", "x"])).stderr).toBe('foreman jobs: unknown command "wiat"; did you mean "wait"? (see foreman jobs --help)\n');
    expect((await foreman(["jobs", "frobnicate"])).stderr).toBe('foreman jobs: unknown command "frobnicate" (see foreman jobs --help)\n');
  });
});

describe("aliases", () => {
  test("list and ls print what models prints; version what --version prints", async () => {
    const models = await foreman(["models"]);
    expect(models.code).toBe(0);
    expect(await foreman(["list"])).toEqual(models);
    expect(await foreman(["ls"])).toEqual(models);
    expect(await foreman(["version"])).toEqual(await foreman(["--version"]));
  });

  test("jobs show is jobs get", async () => {
    const submitted = await foreman(["jobs", "submit", "--model", "llama3.2", "--prompt", "hi", "--json"]);
    const id = (JSON.parse(submitted.stdout) as { id: string }).id;
    await foreman(["jobs", "wait", id]);
    const shown = await foreman(["jobs", "show", id]);
    expect(shown.code).toBe(0);
    expect(shown).toEqual(await foreman(["jobs", "get", id]));
    expect(shown.stdout).toContain(id);
  });
});

describe("show, stop, rm", () => {
  test("show prints ollama show's sections from the target's /api/show; --json the reply; an unknown model exits 3", async () => {
    const reply = await simJson("/api/show", { model: "qwen3:0.6b" });
    const r = await foreman(["show", "qwen3:0.6b"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(showText(reply as Parameters<typeof showText>[0]));
    expect(r.stdout).toStartWith("  Model\n    architecture        qwen3\n    parameters          751.63M\n    context length      40960\n    embedding length    1024\n");
    expect(r.stdout).toContain("  Capabilities\n    completion\n    tools\n    thinking\n");
    expect(JSON.parse((await foreman(["show", "qwen3:0.6b", "--json"])).stdout)).toEqual(reply);
    expect(await foreman(["show", "no-such-model"])).toEqual({ stdout: "", stderr: 'foreman show: model "no-such-model" not found\n', code: 3 });
  });

  test("stop unloads a resident model from the target now", async () => {
    expect((await foreman(["run", "llama3.2", "hi"])).code).toBe(0);
    const resident = async () => ((await simJson("/api/ps")) as { models: { name: string }[] }).models.map((m) => m.name);
    expect(await resident()).toContain("llama3.2:latest");
    expect(await foreman(["stop", "llama3.2"])).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(await resident()).not.toContain("llama3.2:latest");
    expect(await foreman(["stop", "no-such-model"])).toEqual({ stdout: "", stderr: 'foreman stop: couldn\'t find model "no-such-model" to stop\n', code: 3 });
  });

  test("rm deletes models from the target, as ollama rm says it; an unknown one exits 3", async () => {
    const tags = async () => ((await simJson("/api/tags")) as { models: { name: string }[] }).models.map((m) => m.name);
    expect((await foreman(["pull", "all-minilm", "phi3"])).code).toBe(0);
    expect(await tags()).toEqual(expect.arrayContaining(["all-minilm:latest", "phi3:latest"]));
    expect(await foreman(["rm", "all-minilm", "phi3"])).toEqual({ stdout: "deleted 'all-minilm'\ndeleted 'phi3'\n", stderr: "", code: 0 });
    expect(await tags()).not.toContain("all-minilm:latest");
    expect(await tags()).not.toContain("phi3:latest");
    const gone = await foreman(["rm", "phi3"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toBe('foreman rm: model "phi3" not found\n');
  });
});

describe("mistakes that say what to do", () => {
  test("a refused token: pass --token or set FOREMAN_TOKEN", async () => {
    const guarded = await startStack({ foreman: { token: "s3cret-token" } });
    try {
      const r = await foreman(["jobs", "ls"], { FOREMAN_URL: guarded.url });
      expect(r.code).toBe(3);
      expect(r.stderr).toStartWith("foreman jobs ls: HTTP 401: ");
      expect(r.stderr).toEndWith(" — pass --token or set FOREMAN_TOKEN\n");
      expect(r.stderr).not.toContain("s3cret");
      expect((await foreman(["jobs", "ls", "--token", "s3cret-token"], { FOREMAN_URL: guarded.url })).code).toBe(0);
    } finally {
      await guarded.stop();
    }
  });

  test("jobs ls --limit 0 (or past the page size) is a usage error, said by the CLI", async () => {
    for (const limit of ["0", "501", "-1", "ten"]) {
      const r = await foreman(["jobs", "ls", "--limit", limit]);
      expect(r).toEqual({ stdout: "", stderr: "foreman jobs ls: --limit: expected a whole number from 1 to 500 (see foreman jobs ls --help)\n", code: 2 });
    }
    expect((await foreman(["jobs", "ls", "--limit", "500"])).code).toBe(0);
  });
});

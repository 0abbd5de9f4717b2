import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import type { SimCounters, SimFaults } from "../../src/sim/index.ts";
import { waitFor } from "../harness.ts";
import { jsonOf, post } from "../wire.ts";

type State = { counters: SimCounters; faults: SimFaults; resident: string[] };

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 1, loadMs: 5 });
});
afterAll(() => sim.stop());

describe("/_sim/ control API", () => {
  test("state, faults and reset over HTTP", async () => {
    await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "x", stream: false });
    const state = await jsonOf<State>(await fetch(`${sim.url}/_sim/state`));
    expect(state.counters.completed).toBe(1);
    expect(state.counters.requests).toEqual({ "POST /api/generate": 1 });
    expect(state.resident).toEqual(["llama3.2:latest"]);
    expect(state.faults.busy).toBe(false);

    const patched = await jsonOf<State>(await post(`${sim.url}/_sim/faults`, { busy: true }));
    expect(patched.faults.busy).toBe(true);
    expect(sim.faults().busy).toBe(true);
    expect((await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "x" })).status).toBe(503);
    await post(`${sim.url}/_sim/faults`, { busy: false });

    const reset = await jsonOf<State>(await post(`${sim.url}/_sim/reset`, {}));
    expect(reset.counters.completed).toBe(0);
    expect(reset.counters.requests).toEqual({});
    expect((await fetch(`${sim.url}/_sim/faults`)).status).toBe(405);
  });

  test("asleep with wakeAfterMs wakes on its own", async () => {
    const res = await post(`${sim.url}/_sim/faults`, { asleep: true, wakeAfterMs: 150 });
    expect(res.status).toBe(200);
    await waitFor(() => sim.faults().asleep, { what: "the simulator asleep" });
    expect(await fetch(sim.url).then(() => "up", () => "refused")).toBe("refused");
    await waitFor(() => !sim.faults().asleep, { what: "the simulator awake again", timeoutMs: 3000 });
    expect((await fetch(sim.url)).status).toBe(200);
  });
});

describe("foreman sim", () => {
  const cli = (args: string[]) =>
    Bun.spawn([process.execPath, `${import.meta.dir}/fixtures/run-cli.ts`, ...args], { stdout: "pipe", stderr: "pipe" });

  test("--help lists every option", async () => {
    const child = cli(["--help"]);
    expect(await child.exited).toBe(0);
    const out = await new Response(child.stdout).text();
    for (const flag of ["--port", "--host", "--token-delay", "--load-ms", "--max-loaded", "--origins"]) expect(out).toContain(flag);
    expect(out).toContain("(default 3)");
  });

  test("bad flags exit 2 with one line", async () => {
    const child = cli(["--bogus", "1"]);
    expect(await child.exited).toBe(2);
    const err = await new Response(child.stderr).text();
    expect(err.trim().split("\n")).toHaveLength(1);
  });

  test("prints its URL, serves, exits 0 on SIGTERM", async () => {
    const child = cli(["--port", "0", "--token-delay", "1", "--load-ms", "1"]);
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    const url = /http:\/\/\S+/.exec(new TextDecoder().decode(value))?.[0];
    expect(url).toBeDefined();
    expect(await (await fetch(url!)).text()).toBe("Ollama is running");
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  });
});

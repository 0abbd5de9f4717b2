// The TypeScript client must run on Node ≥ 20 too (no Bun-only APIs): bundle it for Node
// and let a plain Node process run() a job against a real foreman.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { startTestForeman, tempDir, type TestForeman } from "../helpers.ts";

const node = Bun.which("node");
let sim: Simulator;
let foreman: TestForeman;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 5, loadMs: 20 });
  foreman = await startTestForeman({ target: sim.url });
});

afterAll(async () => {
  await foreman.stop();
  await sim.stop();
});

test.skipIf(!node)("run() and a typed failure work in Node", async () => {
  const dir = tempDir();
  const built = await Bun.build({ entrypoints: [join(import.meta.dir, "../../clients/ts/index.ts")], target: "node", format: "esm", outdir: dir.path });
  expect(built.success).toBe(true);
  // types come from the TypeBox schemas, but nothing of TypeBox (or Elysia) is in the bundle
  const bundled = await built.outputs[0]!.text();
  expect(bundled).not.toContain("node_modules/");
  const script = join(dir.path, "main.mjs");
  writeFileSync(
    script,
    `import { ForemanClient, JobFailedError } from "./index.js";
const foreman = new ForemanClient({ baseUrl: process.argv[2] });
const reply = await foreman.run({ request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] } }, { timeout: 60000 });
const failed = await foreman.run({ request: { model: "nope", messages: [] } }).catch((e) => e);
console.log(JSON.stringify({ done: reply.done, failed: failed instanceof JobFailedError, status: failed.job?.status }));`,
  );
  const proc = Bun.spawn([node!, script, foreman.url], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  dir.remove();
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toEqual({ done: true, failed: true, status: "failed" });
}, 60_000);

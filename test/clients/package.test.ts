// The TypeScript client stands alone: built, packed with npm, installed from the tarball into
// an empty folder, and used by plain Node (no Bun, no TypeScript at run time, nothing of
// foreman's server in the bundle) against a real foreman. Its declarations type-check a
// consumer that imports the package by name.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { $ } from "bun";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStack, tempDir, type Stack } from "../harness.ts";

const root = join(import.meta.dir, "..", "..");
const node = Bun.which("node");
let stack: Stack;
const dir = tempDir();

beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 5, loadMs: 20 } });
});

afterAll(async () => {
  await stack.stop();
  dir.remove();
});

test.skipIf(!node)("npm pack → npm install → plain Node runs a job, sees a typed failure, and the types resolve", async () => {
  // packing builds the package (prepack): nothing built beforehand
  rmSync(join(root, "clients/ts/dist"), { recursive: true, force: true });
  await $`npm pack ${join(root, "clients/ts")} --pack-destination ${dir.path} --silent`.quiet();
  // every entry its package.json lists exists, and no tarball was left in the repository
  const manifest = (await Bun.file(join(root, "clients/ts/package.json")).json()) as { files: string[] };
  expect(manifest.files.filter((f) => !existsSync(join(root, "clients/ts", f)))).toEqual([]);
  expect((await $`git -C ${root} status --porcelain --ignored`.text()).split("\n").filter((l) => l.endsWith(".tgz"))).toEqual([]);
  const tarball = readdirSync(dir.path).find((f) => f.endsWith(".tgz"));
  expect(tarball).toMatch(/^foreman-client-\d+\.\d+\.\d+\.tgz$/);
  const tarList = await $`tar -tzf ${join(dir.path, tarball!)}`.text();
  // compiled JavaScript and declarations; no TypeScript sources, nothing of the server
  expect(tarList).toContain("package/dist/index.js");
  expect(tarList).toContain("package/dist/types/clients/ts/index.d.ts");
  expect(tarList.split("\n").filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);

  const app = join(dir.path, "app");
  await $`mkdir -p ${app}`;
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await $`npm install ${join(dir.path, tarball!)} --no-audit --no-fund --offline --silent`.cwd(app).quiet();
  expect(readdirSync(join(app, "node_modules")).filter((f) => !f.startsWith("."))).toEqual(["@foreman"]); // it depends on nothing

  writeFileSync(
    join(app, "main.mjs"),
    `import { ForemanClient, JobFailedError } from "@foreman/client";
const foreman = new ForemanClient({ baseUrl: process.argv[2] });
const controller = new AbortController();
const reply = await foreman.run({ request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] } }, { timeout: 60000, signal: controller.signal });
const failed = await foreman.run({ request: { model: "nope", messages: [] } }).catch((e) => e);
console.log(JSON.stringify({ done: reply.done, role: reply.message.role, failed: failed instanceof JobFailedError, status: failed.job?.status }));`,
  );
  const proc = Bun.spawn([node!, join(app, "main.mjs"), stack.url], { stdout: "pipe", stderr: "pipe", cwd: app });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toEqual({ done: true, role: "assistant", failed: true, status: "failed" });

  // a TypeScript consumer type-checks against the shipped declarations (and catches a misuse)
  writeFileSync(
    join(app, "consumer.ts"),
    `import { ForemanClient, type Job, type Submission } from "@foreman/client";
const client = new ForemanClient({ baseUrl: "http://127.0.0.1:8080" });
const submission: Submission = { endpoint: "/api/chat", request: { model: "m" }, priority: 1 };
const job: Promise<Job> = client.submit(submission, { signal: AbortSignal.timeout(1000) });
const status: Job["status"] = "done";
export { job, status };
`,
  );
  writeFileSync(join(app, "bad.ts"), `import { ForemanClient } from "@foreman/client";\nnew ForemanClient({ baseUrl: "x" }).submit({ endpoint: "/api/nope", request: {} });\n`);
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const flags = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--lib", "es2022,dom", "--types", ""];
  const good = await $`${tsc} ${flags} consumer.ts`.cwd(app).nothrow().quiet();
  expect(good.stdout.toString() + good.stderr.toString()).toBe("");
  expect(good.exitCode).toBe(0);
  const bad = await $`${tsc} ${flags} bad.ts`.cwd(app).nothrow().quiet();
  expect(bad.exitCode).not.toBe(0);
  expect(bad.stdout.toString()).toContain("/api/nope");
}, 120_000);

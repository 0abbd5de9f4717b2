// Runs the Go client's own tests (clients/go, against a real foreman they start) from
// `bun test`, so `npm test` covers both clients. Skips locally when Go is not installed;
// in CI (process.env.CI set) a missing Go is a failure.
import { expect, test } from "bun:test";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../harness.ts";

const go = Bun.which("go");
const dir = join(import.meta.dir, "..", "..", "clients", "go");

/** Go keeps its build cache under HOME; where HOME is read-only, point it at a temporary directory. */
function homeWritable(): boolean {
  try {
    accessSync(process.env.HOME ?? "/nonexistent", constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

if (!go && !process.env.CI) console.warn("test/clients/go.test.ts: skipped — `go` is not installed (apt-get install golang-go); CI does not skip it");

test.skipIf(!go && !process.env.CI)("the Go client's tests pass against a real foreman (go test ./...)", async () => {
  expect(go, "go is not installed, and CI must run the Go client's tests").toBeTruthy();
  const cache = tempDir("foreman-go-cache-");
  const caches = homeWritable() ? {} : { GOCACHE: join(cache.path, "build"), GOPATH: join(cache.path, "path") };
  const proc = Bun.spawn([go!, "test", "-count=1", "./..."], {
    cwd: dir,
    env: { ...caches, ...process.env, FOREMAN_BUN: process.execPath, GOFLAGS: "-mod=mod", GOPROXY: "off" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  cache.remove();
  if (code !== 0) console.error(stdout, stderr);
  expect(code).toBe(0);
}, 180_000);

// `npm run bench`: every benchmark, one after the other, each rewriting its section of
// docs/benchmarks.md. A single one: bun bench/<name>.ts
import { join } from "node:path";

for (const name of ["engine", "passthrough", "no-turn", "jobs", "webhooks", "bodies", "checkpoint", "uploads", "transcriptions", "scrape", "preemption", "usage", "estimates", "batches"]) {
  console.log(`\n=== bench/${name}.ts`);
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, `${name}.ts`)], { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) {
    console.error(`bench/${name}.ts failed`);
    process.exit(1);
  }
}

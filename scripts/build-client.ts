// Builds the standalone TypeScript client (clients/ts) into clients/ts/dist: one ESM bundle
// with what it uses of src/contract/ inlined (no run-time dependencies), and type
// declarations from tsc. `npm pack clients/ts` then makes the installable tarball.
import { $ } from "bun";
import { rmSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dir, "..", "clients", "ts");
rmSync(join(dir, "dist"), { recursive: true, force: true });
const built = await Bun.build({ entrypoints: [join(dir, "index.ts")], target: "node", format: "esm", outdir: join(dir, "dist"), naming: "index.js" });
if (!built.success) {
  for (const log of built.logs) console.error(log);
  process.exit(1);
}
// the project's own TypeScript, whatever PATH holds
await $`${join(import.meta.dir, "..", "node_modules", ".bin", "tsc")} -p ${join(dir, "tsconfig.build.json")}`;
console.log("clients/ts/dist: index.js and type declarations");

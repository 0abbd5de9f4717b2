#!/usr/bin/env node
// The Bun runtime of the `bun` npm package, for machines with Node and npm only. It is found
// even when npm ran no install scripts (`npm ci --ignore-scripts`, pnpm, a policy in .npmrc):
// then the `bun` package's bin/bun.exe is a small placeholder, and the binary is still in the
// platform package it came from. bin/foreman.mjs runs foreman with it; `node bin/bun.mjs ARGS`
// runs `bun ARGS` with that binary first on PATH, so what it starts as `bun` is the same one
// (`npm test`, the scripts in package.json). See docs/adr/0023 and 0032.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The bun executable the `bun` package installed (its postinstall puts it in bin/bun.exe). */
export function bunBinary() {
  const require = createRequire(import.meta.url);
  let dir;
  try {
    dir = dirname(require.resolve("bun/package.json"));
  } catch {
    return null;
  }
  // before its postinstall runs (npm install --ignore-scripts) bin/bun.exe is a small placeholder;
  // the binary is then still in the platform package it came from
  const candidates = [join(dir, "bin", "bun.exe")];
  for (const suffix of process.arch === "x64" || process.arch === "arm64" ? ["", "-baseline", "-musl", "-musl-baseline"] : []) {
    const arch = process.arch === "arm64" ? "aarch64" : "x64";
    try {
      candidates.push(join(dirname(require.resolve(`@oven/bun-${process.platform}-${arch}${suffix}/package.json`)), "bin", process.platform === "win32" ? "bun.exe" : "bun"));
    } catch {
      // that platform package is not installed
    }
  }
  return candidates.find((path) => existsSync(path) && statSync(path).size > 1_000_000) ?? null;
}

/** `node bin/bun.mjs ARGS`: bun ARGS, its exit code (or the signal that ended it) passed on. */
function main() {
  const bun = bunBinary();
  if (!bun) {
    console.error("the bun runtime is missing; run `npm install` in foreman's directory (it comes from the npm registry as the `bun` package)");
    process.exit(1);
  }
  const env = { ...process.env, PATH: [dirname(bun), process.env.PATH].filter(Boolean).join(delimiter) };
  const result = spawnSync(bun, process.argv.slice(2), { stdio: "inherit", env });
  if (result.error) {
    console.error(`cannot start ${bun}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.signal) process.kill(process.pid, result.signal);
  process.exit(result.status ?? 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

#!/usr/bin/env node
// The package's `foreman` command for machines with Node and npm only (`npx foreman …`,
// `npm install -g`): runs src/main.ts with the Bun binary of the `bun` npm package, a
// run-time dependency, so no `bun` on PATH is needed. Arguments, stdio and the exit code
// (or the signal that ended it) pass through. See docs/adr/0023.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bunBinary } from "./bun.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const bun = bunBinary();
if (!bun) {
  console.error("foreman: the bun runtime is missing; run `npm install` in foreman's directory (it comes from the npm registry as the `bun` package)");
  process.exit(1);
}

// Bun's fetch queues requests past 256 in flight; foreman's direct routes (uploads, metadata)
// can have more than that open at once (ADR 0030). A value set by the caller wins.
const env = { BUN_CONFIG_MAX_HTTP_REQUESTS: "4096", ...process.env };
const child = spawn(bun, [join(root, "src", "main.ts"), ...process.argv.slice(2)], { stdio: "inherit", env });

// A terminal's Ctrl-C (SIGINT, SIGQUIT) reaches the whole foreground process group, foreman
// included: passing it on would deliver it twice, so it is only kept from ending this process.
// Signals sent to this process alone (kill, a process manager, docker stop) are passed on.
const forwarded = ["SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"];
const ignored = ["SIGINT", "SIGQUIT"];
const pass = (signal) => child.kill(signal);
const keep = () => {};
for (const signal of forwarded) process.on(signal, pass);
for (const signal of ignored) process.on(signal, keep);

child.on("error", (err) => {
  console.error(`foreman: cannot start ${bun}: ${err.message}`);
  process.exit(1);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // end the same way, so a shell sees "killed by SIGTERM" and not an exit code
    for (const s of forwarded) process.off(s, pass);
    for (const s of ignored) process.off(s, keep);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});

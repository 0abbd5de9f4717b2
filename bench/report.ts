// Benchmarks write their results into their own "## Heading" section of docs/benchmarks.md,
// leaving the other sections alone, and print them too.
import { join } from "node:path";
import { isTerminal } from "../src/contract/states.ts";
import type { Foreman } from "../src/server.ts";

const FILE = join(import.meta.dir, "..", "docs", "benchmarks.md");
const HEADER = "# Benchmarks\n\nMeasured on the project's 2-core machines; every number comes with its command. `npm run bench` runs them all; each section is rewritten by its own benchmark run.\n";

export async function writeSection(heading: string, body: string): Promise<void> {
  const file = Bun.file(FILE);
  let text = (await file.exists()) ? await file.text() : HEADER;
  const section = `## ${heading}\n\n${body.trim()}\n`;
  const start = text.indexOf(`## ${heading}\n`);
  if (start === -1) text = `${text.trimEnd()}\n\n${section}`;
  else {
    const next = text.indexOf("\n## ", start + 1);
    text = text.slice(0, start) + section + (next === -1 ? "" : text.slice(next));
  }
  await Bun.write(FILE, text.trimEnd() + "\n");
  console.log(section);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);

export function machine(): string {
  return `${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/** A webhook receiver on loopback that keeps each delivery's lag: receipt time − the event's timestamp (ms). */
export function lagReceiver(): { url: string; lags: number[]; stop(): void } {
  const lags: number[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const got = Date.now();
      const { timestamp } = (await req.json()) as { timestamp: string };
      lags.push(got - Date.parse(timestamp));
      return new Response("ok");
    },
  });
  return { url: `http://127.0.0.1:${server.port}/hook`, lags, stop: () => void server.stop(true) };
}

/** Resolves when `count` jobs have ended, from the after-commit notifications (no polling). */
export function untilEnded(f: Foreman, count: number): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  let ended = 0;
  const stop = f.services.watch.subscribe(null, (job) => {
    if (isTerminal(job.status) && ++ended === count) {
      stop();
      resolve();
    }
  });
  return promise;
}

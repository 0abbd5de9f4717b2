// Retention: finished jobs older than FOREMAN_RETENTION_HOURS leave the database (with their
// artifacts, events and deliveries), at start-up and then hourly, in small batches that never
// hold the database for long. The usage rollup keeps its hours longer, by its own setting
// (FOREMAN_USAGE_RETENTION_HOURS, ADR 0036), and goes in the same pass.
import type { Logger } from "../ops/log.ts";
import type { PruneCursor, Queue } from "./queue.ts";
import type { UsageLedger } from "./usage.ts";

const EVERY_MS = 3_600_000;
const BATCH = 1000;

export function startRetention(queue: Queue, retentionHours: number, log: Logger, usage?: { ledger: UsageLedger; hours: number }): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = async () => {
    const cutoff = Date.now() - retentionHours * 3_600_000;
    let total = 0;
    let cursor: PruneCursor | null = null;
    do {
      const { removed, next } = queue.prune(cutoff, BATCH, cursor);
      total += removed;
      cursor = next;
      await Bun.sleep(0); // let requests in between batches
    } while (cursor && !stopped);
    if (total > 0) log.info("pruned finished jobs", { jobs: total, older_than_hours: retentionHours });
    const hours = usage ? usage.ledger.prune(Date.now() - usage.hours * 3_600_000) : 0;
    if (hours > 0) log.info("pruned usage rollup", { rows: hours, older_than_hours: usage!.hours });
    if (!stopped) timer = setTimeout(() => void run().catch((err) => log.error("pruning failed", { error: (err as Error).message })), EVERY_MS);
  };
  void run().catch((err) => log.error("pruning failed", { error: (err as Error).message }));
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

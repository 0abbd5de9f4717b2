// Retention: finished jobs older than FOREMAN_RETENTION_HOURS leave the database (with their
// artifacts, events and deliveries), at start-up and then hourly, in small batches that never
// hold the database for long. The usage rollup keeps its hours longer, by its own setting
// (FOREMAN_USAGE_RETENTION_HOURS, ADR 0036), and goes in the same pass, as do expired batch files
// (their rows, then their bytes) and the ended batches none of whose files is left.
import type { Logger } from "../ops/log.ts";
import type { Batches } from "./batches.ts";
import type { Files } from "./files.ts";
import type { PruneCursor, Queue } from "./queue.ts";
import type { UsageLedger } from "./usage.ts";

const EVERY_MS = 3_600_000;
const BATCH = 1000;

/**
 * Deletes the batch files expired at `now` — rows first, bytes once that commits, so a row never
 * names a missing file — and the ended batches left without files. Returns what went.
 */
export async function expireFiles(queue: Queue, files: Files, batches: Batches, now: number): Promise<{ files: number; batches: number }> {
  let removed = 0;
  for (let ids = files.expired(now, BATCH); ids.length > 0; ids = ids.length === BATCH ? files.expired(now, BATCH) : []) {
    queue.atomically(() => ids.forEach((id) => files.delete(id)));
    await queue.settled();
    for (const id of ids) files.discard(id);
    removed += ids.length;
  }
  const gone = queue.atomically(() => batches.removeWithoutFiles());
  await queue.settled();
  return { files: removed, batches: gone };
}

export function startRetention(queue: Queue, retentionHours: number, log: Logger, usage?: { ledger: UsageLedger; hours: number }, batchFiles?: { files: Files; batches: Batches }): () => void {
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
    const expired = batchFiles ? await expireFiles(queue, batchFiles.files, batchFiles.batches, Date.now()) : { files: 0, batches: 0 };
    if (expired.files + expired.batches > 0) log.info("removed expired batch files", expired);
    if (!stopped) timer = setTimeout(() => void run().catch((err) => log.error("pruning failed", { error: (err as Error).message })), EVERY_MS);
  };
  void run().catch((err) => log.error("pruning failed", { error: (err as Error).message }));
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

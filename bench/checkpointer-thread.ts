// A prototype for bench/checkpoint.ts only: a checkpointer on its own connection in a worker
// thread, checkpointing (PASSIVE) every 20 ms while foreman's connection has its automatic
// checkpoint off. Not part of foreman (ADR 0029 says why).
import { Database } from "bun:sqlite";

declare const self: Worker;
self.onmessage = (e: MessageEvent<string>) => {
  const db = new Database(e.data);
  db.exec("PRAGMA busy_timeout = 0");
  db.exec("PRAGMA synchronous = NORMAL");
  setInterval(() => {
    try {
      db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch {
      // busy: the next turn checkpoints
    }
  }, 20);
};

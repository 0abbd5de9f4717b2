// What a route handler can reach: the long-lived parts of one running foreman.
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import type { Store } from "./store.ts";

export interface Services {
  config: Config;
  store: Store;
  log: Logger;
  /** The target's base URL (the in-process simulator's when FOREMAN_TARGET=sim). */
  targetUrl: string;
  startedAt: number;
  /** Whether the target answered its last liveness probe; null before the first probe. */
  targetUp(): boolean | null;
}

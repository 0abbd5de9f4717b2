// What a route handler can reach: the long-lived parts of one running foreman.
import type { Config } from "./config.ts";
import type { JobWatch } from "./job-watch.ts";
import type { Logger } from "./log.ts";
import type { Poller } from "./poller.ts";
import type { Queue } from "./queue.ts";
import type { Store } from "./store.ts";
import type { Telemetry } from "./telemetry.ts";
import type { TargetClient } from "./target.ts";
import type { Dispatcher } from "./webhooks/dispatcher.ts";
import type { Worker } from "./worker.ts";

export interface Services {
  config: Config;
  store: Store;
  log: Logger;
  queue: Queue;
  target: TargetClient;
  poller: Poller;
  worker: Worker;
  watch: JobWatch;
  telemetry: Telemetry;
  dispatcher: Dispatcher;
  /** Why a webhook URL is refused, or undefined when it is allowed. */
  checkWebhookUrl(url: string): string | undefined;
  startedAt: number;
}

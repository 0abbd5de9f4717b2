// What a route handler can reach: the long-lived parts of one running foreman.
import type { Config } from "../config.ts";
import type { EdgePolicy } from "./origin-policy.ts";
import type { Submitter } from "../queue/submit.ts";
import type { JobWatch } from "../queue/watch.ts";
import type { Logger } from "../ops/log.ts";
import type { Poller } from "../engine/poller.ts";
import type { Queue } from "../queue/queue.ts";
import type { Store } from "../store/open.ts";
import type { Telemetry } from "../ops/telemetry.ts";
import type { TargetClient } from "../target/client.ts";
import type { Dispatcher } from "../webhooks/dispatcher.ts";
import type { Worker } from "../engine/worker.ts";
import type { Estimates } from "../engine/estimates.ts";
import type { Waker } from "../engine/waker.ts";

export interface Services {
  config: Config;
  store: Store;
  log: Logger;
  queue: Queue;
  target: TargetClient;
  poller: Poller;
  worker: Worker;
  /** Queued jobs' positions and estimates (ADR 0038). */
  estimates: Estimates;
  /** Wake-on-LAN for the target; null without FOREMAN_WAKE_MAC. */
  waker: Waker | null;
  watch: JobWatch;
  telemetry: Telemetry;
  dispatcher: Dispatcher;
  submitter: Submitter;
  /** Which browser origins and Host names the edge answers (FOREMAN_ORIGINS, the listener's address). */
  edge: EdgePolicy;
  /** Why a webhook URL is refused, or undefined when it is allowed. */
  checkWebhookUrl(url: string): Promise<string | undefined>;
  startedAt: number;
}

// What a route handler can reach: the long-lived parts of one running foreman.
import type { Config } from "../config.ts";
import type { BodyBudget } from "./body-budget.ts";
import type { EdgePolicy } from "../ollama/origin-policy.ts";
import type { Submitter } from "../queue/submit.ts";
import type { JobWatch } from "../queue/watch.ts";
import type { Logger } from "../ops/log.ts";
import type { Poller } from "../engine/poller.ts";
import type { Queue } from "../queue/queue.ts";
import type { Store } from "../store/open.ts";
import type { Telemetry } from "./telemetry.ts";
import type { TargetClient } from "../target/client.ts";
import type { Dispatcher } from "../webhooks/dispatcher.ts";
import type { Worker } from "../engine/worker.ts";
import type { Estimates } from "../engine/estimates.ts";
import type { Waker } from "../engine/waker.ts";
import type { UsageLedger } from "../queue/usage.ts";
import type { Files } from "../queue/files.ts";
import type { BatchRunner } from "../engine/batches.ts";

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
  /** The memory request bodies read whole may take at once (FOREMAN_BODY_BUDGET_BYTES). */
  bodies: BodyBudget;
  /** Which browser origins and Host names the edge answers (FOREMAN_ORIGINS, the listener's address). */
  edge: EdgePolicy;
  /** Why a webhook URL is refused, or undefined when it is allowed. */
  checkWebhookUrl(url: string): Promise<string | undefined>;
  /** The hourly usage rollup GET /usage reads (ADR 0036). */
  usage: UsageLedger;
  /** FOREMAN_TRUSTED_PROXIES, parsed: peers whose X-Forwarded-For is believed. */
  trustedProxies: ReadonlySet<string>;
  /** Batch files beside the database (ADR 0039). */
  files: Files;
  /** OpenAI batches: validation, their lines as jobs, the result files (ADR 0039). */
  batches: BatchRunner;
  startedAt: number;
}

// One running foreman: the store, the target (or the in-process simulator), the HTTP app,
// and an orderly stop. Tests and the CLI both start foreman through here.
import { redacted, type Config } from "./config.ts";
import { createApp } from "./http/app.ts";
import { createLogger, type Logger } from "./ops/log.ts";
import { openStore } from "./store/open.ts";
import { Submitter } from "./queue/submit.ts";
import { JobWatch } from "./queue/watch.ts";
import { Poller } from "./engine/poller.ts";
import { Queue } from "./queue/queue.ts";
import type { Services } from "./http/services.ts";
import { startRetention } from "./queue/retention.ts";
import { createTelemetry } from "./ops/telemetry.ts";
import { TargetClient } from "./target/client.ts";
import { webhookUrlChecker } from "./webhooks/policy.ts";
import { Dispatcher, type DispatcherOptions } from "./webhooks/dispatcher.ts";
import { Deliveries } from "./webhooks/deliveries.ts";
import { installOutbox } from "./webhooks/outbox.ts";
import { afterFailure } from "./engine/retry.ts";
import { Worker } from "./engine/worker.ts";

export interface Foreman {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  stop(): Promise<void>;
}

/** How long a running passthrough request may go on after SIGTERM (container runtimes wait 10 s). */
const SHUTDOWN_GRACE_MS = 5000;

export interface StartOptions {
  log?: Logger;
  /** Tests shorten the webhook retry schedule and timeout. */
  webhooks?: Pick<DispatcherOptions, "schedule" | "timeoutMs" | "concurrency">;
  /** Commit POST /jobs submissions in batches (default); off only to measure the difference. */
  groupCommit?: boolean;
}

export async function startForeman(config: Config, opts: StartOptions = {}): Promise<Foreman> {
  const log = opts.log ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const store = openStore(config.db);
  let stopSim: (() => Promise<void>) | undefined;
  let targetUrl = config.target;
  try {
    if (config.target === "sim") {
      const { startSimulator } = await import("./sim/index.ts");
      const sim = await startSimulator({ port: 0 });
      stopSim = () => sim.stop();
      targetUrl = sim.url;
      log.info("built-in simulator started", { url: sim.url });
    }
  } catch (err) {
    store.close();
    throw err;
  }
  const queue = new Queue(store.db);
  const deliveries = new Deliveries(store.db);
  let dispatcher: Dispatcher | undefined;
  installOutbox(queue, deliveries, () => dispatcher?.wake());
  const recovered = queue.recover((failures) => afterFailure(failures, { maxAttempts: config.maxAttempts, baseMs: config.retryBaseMs }).giveUp);
  if (recovered.requeued + recovered.failed + recovered.canceled > 0) log.info("recovered work from the last run", recovered);
  const target = new TargetClient(targetUrl, {
    token: config.targetToken,
    connectTimeoutMs: config.connectTimeoutMs,
    firstByteTimeoutMs: config.firstByteTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
  });
  const poller = new Poller(target, { intervalMs: config.pollIntervalMs, maxBackoffMs: config.pollMaxBackoffMs }, log);
  const worker = new Worker(queue, target, poller, config, log);
  const watch = new JobWatch(queue);
  const checkWebhookUrl = webhookUrlChecker(config.webhookAllow.split(",").map((s) => s.trim()).filter(Boolean));
  const telemetry = createTelemetry({ queue, watch, poller, worker });
  dispatcher = new Dispatcher(deliveries, log, telemetry, { secret: config.webhookSecret, ...opts.webhooks });
  const submitter = new Submitter(queue, opts.groupCommit ?? true);
  const services: Services = { config, store, log, queue, target, poller, worker, watch, telemetry, dispatcher, submitter, checkWebhookUrl, startedAt: Date.now() };
  dispatcher.start();
  const stopRetention = startRetention(queue, config.retentionHours, log);
  poller.start();
  worker.wake();
  const app = createApp(services);
  app.listen({
    hostname: config.host,
    port: config.port,
    // Queued requests and long generations are silent for minutes; never cut them off.
    idleTimeout: 0,
    // the routes enforce FOREMAN_MAX_BODY_BYTES themselves, so the refusal comes in the caller's dialect
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  });
  const server = app.server!;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  log.info("foreman listening", { url, target: target.displayUrl, db: config.db });
  log.debug("configuration", redacted(config));
  void poller.poll();
  let stopped: Promise<void> | undefined;
  return {
    url,
    port: server.port!,
    services,
    stop: () =>
      (stopped ??= (async () => {
        // no new connections; in-flight requests end as the worker lets them
        const closed = server.stop();
        poller.stop();
        stopRetention();
        await worker.stop(SHUTDOWN_GRACE_MS);
        await closed;
        await dispatcher.stop();
        await stopSim?.();
        store.close();
        log.info("foreman stopped");
      })()),
  };
}

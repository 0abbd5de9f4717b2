// The composition root: one running foreman is the store, the target (or the in-process
// simulator), the queue and its engine, the HTTP app, and an orderly stop. It is built in
// three steps — construct (no timers, no sockets), listen, start — and a failure at any
// step stops whatever had started, so a failed start releases the database lock and leaves
// nothing running. Tests and the CLI both start foreman through here.
import { redacted, settingValues, type Config } from "./config.ts";
import { Poller } from "./engine/poller.ts";
import { afterFailure } from "./engine/retry.ts";
import { Waker } from "./engine/waker.ts";
import { Expiry } from "./engine/expiry.ts";
import { Worker } from "./engine/worker.ts";
import { createApp } from "./http/app.ts";
import { BodyBudget } from "./http/body-budget.ts";
import { thisMachine } from "./ollama/machine.ts";
import { hostRules } from "./ollama/origin-policy.ts";
import { openAccessWarning } from "./http/auth.ts";
import type { Services } from "./http/services.ts";
import { createLogger, logFormatFor, type Logger } from "./ops/log.ts";
import { createTelemetry } from "./http/telemetry.ts";
import { Queue } from "./queue/queue.ts";
import { startRetention } from "./queue/retention.ts";
import { UsageLedger } from "./queue/usage.ts";
import { Files } from "./queue/files.ts";
import { Batches } from "./queue/batches.ts";
import { BatchRunner } from "./engine/batches.ts";
import { parseTrustedProxies } from "./contract/caller.ts";
import { Submitter } from "./queue/submit.ts";
import { JobWatch } from "./queue/watch.ts";
import { Estimates } from "./engine/estimates.ts";
import type { Fsync } from "./store/durability.ts";
import { openStore } from "./store/open.ts";
import { clearSpool } from "./passthrough/transcription.ts";
import { TargetClient } from "./target/client.ts";
import { Deliveries } from "./webhooks/deliveries.ts";
import { Dispatcher, type DispatcherOptions } from "./webhooks/dispatcher.ts";
import { WebhookGuard, type Resolver } from "./webhooks/guard.ts";
import { installBatchOutbox, lineWebhook } from "./webhooks/batch-outbox.ts";
import { installOutbox } from "./webhooks/outbox.ts";

export interface Foreman {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  stop(): Promise<void>;
}

/** foreman could not start; the message says why in one line. */
export class StartupError extends Error {}

/** How long a running passthrough request may go on after SIGTERM (container runtimes wait 10 s). */
const SHUTDOWN_GRACE_MS = 5000;

export interface StartOptions {
  log?: Logger;
  /** Tests shorten the webhook retry schedule and timeout, and stand in for DNS. */
  webhooks?: Pick<DispatcherOptions, "schedule" | "timeoutMs" | "concurrency" | "perDestination"> & { resolve?: Resolver };
  /** Commit POST /jobs submissions in batches (default); off only to measure the difference. */
  groupCommit?: boolean;
  /** Tests stall the disk to see that nothing is reported before it answers. */
  fsync?: Fsync;
  /** Said once after the listening line: the configuration's notice (the database's old location). */
  notice?: string;
}

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::";

/** The address as a URL host (IPv6 in brackets); `reachable`: a wildcard bind as loopback, to connect to. */
function urlHost(host: string, reachable = false): string {
  const shown = reachable && isWildcard(host) ? "127.0.0.1" : host;
  return shown.includes(":") ? `[${shown}]` : shown;
}

/** Bun.serve, refusing a port another process holds (Elysia's default would share it: reusePort). */
function listen(app: ReturnType<typeof createApp>, config: Config) {
  try {
    app.listen({
      hostname: config.host,
      port: config.port,
      reusePort: false,
      // Queued requests and long generations are silent for minutes; never cut them off.
      idleTimeout: 0,
      // the routes enforce FOREMAN_MAX_BODY_BYTES themselves, so the refusal comes in the caller's dialect
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const address = `${urlHost(config.host)}:${config.port}`;
    if (code === "EADDRINUSE") throw new StartupError(`cannot listen on ${address}: the address is already in use (another foreman, or another program, holds it)`);
    throw new StartupError(`cannot listen on ${address}: ${(err as Error).message}`);
  }
  return app.server!;
}

export async function startForeman(config: Config, opts: StartOptions = {}): Promise<Foreman> {
  const log = opts.log ?? createLogger({ level: config.logLevel, format: logFormatFor(config.logFormat, process.stderr.isTTY === true) });
  // what has started, in order; stopped in reverse when a later step fails
  const started: (() => unknown)[] = [];
  const unwind = async () => {
    for (const stop of started.reverse()) await Promise.resolve(stop()).catch(() => {});
  };
  try {
    // construct: nothing runs yet
    const store = openStore(config.db, { sync: config.sync, fsync: opts.fsync });
    started.push(() => store.close());
    clearSpool(config.db);
    let targetUrl = config.target;
    if (config.target === "sim") {
      const { startSimulator } = await import("./sim/index.ts");
      const sim = await startSimulator({ port: 0 }).catch((err: Error) => {
        throw new StartupError(`cannot start the built-in simulator: ${err.message}`);
      });
      started.push(() => sim.stop());
      targetUrl = sim.url;
      log.info("built-in simulator started", { url: sim.url });
    }
    const queue = new Queue(store.db, Date.now, store.durability);
    const usage = new UsageLedger(store.db);
    usage.install(queue);
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
    const settings = settingValues(config);
    if (!settings.ok) throw new StartupError(settings.error);
    const { wake, webhookAllow: allow, originRules } = settings.values;
    const waker = wake === null ? null : new Waker({ ...config, wakeMac: config.wakeMac! }, wake, poller, queue, log);
    const watch = new JobWatch(queue);
    worker.onUnrecorded((jobId, error) => watch.unrecorded(jobId, error));
    const { resolve, ...dispatching } = opts.webhooks ?? {};
    const guard = new WebhookGuard(allow, resolve);
    // the default webhook is checked like a submitted one, once, so a refused one stops the start
    const refused = config.webhookUrl === undefined ? undefined : await guard.check(config.webhookUrl);
    if (refused) throw new StartupError(`FOREMAN_WEBHOOK_URL is refused: ${refused}`);
    const checkWebhookUrl = (url: string) => guard.check(url);
    const batchRows = new Batches(store.db);
    installBatchOutbox(queue, batchRows, deliveries, config.webhookUrl, () => dispatcher?.wake());
    const telemetry = createTelemetry({ queue, watch, poller, worker, waker, deliveries, batches: batchRows });
    dispatcher = new Dispatcher(deliveries, guard, log, telemetry, () => queue.settled(), { secret: config.webhookSecret, ...dispatching });
    const submitter = new Submitter(queue, opts.groupCommit ?? true);
    const edge = { origins: originRules, hosts: hostRules(thisMachine(config.host)) };
    const trustedProxies = parseTrustedProxies(config.trustedProxies);
    if (typeof trustedProxies === "string") throw new StartupError(`invalid FOREMAN_TRUSTED_PROXIES: ${trustedProxies}`);
    const files = new Files(store.db, config.db);
    const batches = new BatchRunner(queue, batchRows, files, worker, log, (b) => lineWebhook(b, config.webhookUrl));
    const services: Services = { config, store, log, queue, target, poller, worker, estimates: new Estimates(queue, worker), waker, watch, telemetry, dispatcher, submitter, bodies: new BodyBudget(config.bodyBudgetBytes), edge, checkWebhookUrl, usage, trustedProxies, files, batches, startedAt: Date.now() };
    const app = createApp(services);

    // listen
    const server = listen(app, config);
    const closed = Promise.withResolvers<void>();
    started.push(() => server.stop(true));
    const url = `http://${urlHost(config.host, true)}:${server.port}`;
    const bound = `http://${urlHost(config.host)}:${server.port}`;

    // start
    dispatcher.start();
    started.push(() => dispatcher.stop());
    started.push(startRetention(queue, config.retentionHours, log, { ledger: usage, hours: config.usageRetentionHours }, { files, batches: batchRows }));
    // before the worker: what expired while foreman was down never starts
    const expiry = new Expiry(queue, log);
    expiry.start();
    started.push(() => expiry.stop());
    if (waker) {
      waker.start();
      started.push(() => waker.stop());
    }
    poller.start();
    started.push(() => poller.stop());
    worker.start();
    started.push(() => worker.stop());
    batches.start();
    started.push(() => batches.stop());
    // the address bound, and for a wildcard bind where this machine reaches it
    log.info("foreman listening", { url: bound, ...(bound === url ? {} : { local: url }), target: target.displayUrl, db: config.db });
    if (opts.notice) log.warn(opts.notice);
    const open = openAccessWarning(config.host, config.token);
    if (open) log.warn(open);
    log.debug("configuration", redacted(config));

    let stopped: Promise<void> | undefined;
    return {
      url,
      port: server.port!,
      services,
      stop: () =>
        (stopped ??= (async () => {
          // no new connections; in-flight requests end as the worker lets them
          void server.stop().then(() => closed.resolve());
          poller.stop();
          await worker.stop(SHUTDOWN_GRACE_MS);
          await closed.promise;
          for (const stop of started.reverse()) await Promise.resolve(stop()).catch(() => {});
          log.info("foreman stopped");
        })()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

// The imperative shell of the Ollama simulator: owns the Bun server, the
// fault switches (asleep closes and re-opens the same port), counters, the
// per-request abort wiring and Ollama's CORS/Host edge (whose rules live in
// src/ollama/origin-policy.ts, shared with foreman's own edge). Everything else
// is in the modules it wires.

import { thisMachine } from "../ollama/machine.ts";
import { edgeDecision, edgePolicy, type EdgePolicy, type HeaderPair } from "../ollama/origin-policy.ts";
import { Catalogue, DEFAULT_MODELS } from "./catalogue.ts";
import type { SimContext } from "./context.ts";
import { control, CONTROL_PREFIX, type Controls } from "./control.ts";
import { route } from "./router.ts";
import { Scheduler } from "./scheduler.ts";
import type { SimCounters, SimFaults, SimOptions, SimSettings, Simulator } from "./types.ts";

export type { SimCounters, SimFaults, SimModelSpec, SimOptions, Simulator } from "./types.ts";

const NO_FAULTS: SimFaults = {
  asleep: false,
  hung: false,
  firstByteDelayMs: 0,
  errorBeforeFirstByte: null,
  errorMidStream: null,
  busy: false,
  failLoad: [],
  dropWhen: null,
  endless: false,
};

function settingsOf(options: SimOptions): SimSettings {
  return {
    tokenDelayMs: options.tokenDelayMs ?? 20,
    loadMs: options.loadMs ?? 200,
    responseTokens: options.responseTokens ?? 12,
    maxLoaded: Math.max(1, options.maxLoaded ?? 3),
    maxQueue: options.maxQueue ?? 512,
    keepAliveMs: options.keepAliveMs ?? 5 * 60_000,
    seed: options.seed ?? 42,
    version: options.version ?? "0.33.0",
  };
}

function zeroCounters(counters: SimCounters): void {
  counters.requests = {};
  counters.loads = 0;
  counters.swaps = 0;
  counters.reloads = 0;
  counters.maxConcurrent = counters.concurrent;
  counters.aborted = 0;
  counters.completed = 0;
  counters.dropped = 0;
}

/** Ollama's CORS and Host rules for this listener; machine facts are read once, at start. */
function edgeOf(origins: string, listenHost: string): EdgePolicy {
  const built = edgePolicy(origins, thisMachine(listenHost));
  if (!built.ok) throw new Error(`simulator: origins: ${built.error}`);
  return built.policy;
}

const withHeaders = (response: Response, headers: HeaderPair[]): Response => {
  for (const [name, value] of headers) response.headers.append(name, value);
  return response;
};

/** Resolves when `signal` aborts: how a hung request waits for its client to give up. */
/** A reply that never starts: the connection closes with no byte written, a reset to the client. */
const dropped = (): Response => new Response(new ReadableStream({ pull: (controller) => controller.error() }));

/** Whether a request's body carries the `dropWhen` marker (read from a copy, so the handler still has it). */
async function carries(req: Request, marker: string | null): Promise<boolean> {
  if (marker === null || req.body === null) return false;
  return (await req.clone().text()).includes(marker);
}

const untilAborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));

export async function startSimulator(options: SimOptions = {}): Promise<Simulator> {
  const settings = settingsOf(options);
  const hostname = options.hostname ?? "127.0.0.1";
  const edge = edgeOf(options.origins ?? "", hostname);
  const counters: SimCounters = { requests: {}, loads: 0, swaps: 0, reloads: 0, concurrent: 0, maxConcurrent: 0, aborted: 0, completed: 0, dropped: 0 };
  let faults: SimFaults = { ...NO_FAULTS, ...options.faults };
  const catalogue = new Catalogue(options.models ?? DEFAULT_MODELS);
  const scheduler = new Scheduler(settings, counters, () => faults);
  const ctx: SimContext = { settings, catalogue, scheduler, counters, faults: () => faults };
  // Aborted whenever the port closes (sleep or stop), cutting every in-flight request.
  let lifetime = new AbortController();
  let server: ReturnType<typeof Bun.serve> | null = null;
  let port = options.port ?? 0;
  let wakeTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  async function handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path.startsWith(CONTROL_PREFIX)) return control(controls, req);
    const decision = edgeDecision({ method: req.method, origin: req.headers.get("origin"), host: req.headers.get("host") ?? "" }, edge);
    if (decision.kind === "forbidden") return withHeaders(new Response(null, { status: 403 }), decision.headers);
    if (decision.kind === "preflight") return withHeaders(new Response(null, { status: 204 }), decision.headers);
    const key = `${req.method} ${path}`;
    counters.requests[key] = (counters.requests[key] ?? 0) + 1;
    const abort = new AbortController();
    const signal = AbortSignal.any([req.signal, lifetime.signal, abort.signal]);
    if (await carries(req, faults.dropWhen)) {
      counters.dropped++;
      return dropped();
    }
    if (faults.hung) {
      await untilAborted(signal);
      return new Response(null, { status: 499 });
    }
    return withHeaders(await route(ctx, req, { signal, cancel: () => abort.abort() }), decision.headers);
  }

  function listen(): void {
    server = Bun.serve({ port, hostname, idleTimeout: 0, fetch: handle });
    port = server.port ?? port;
  }

  async function close(): Promise<void> {
    lifetime.abort();
    lifetime = new AbortController();
    const closing = server;
    server = null;
    await closing?.stop(true);
  }

  async function setFaults(patch: Partial<SimFaults>): Promise<void> {
    if (stopped) return;
    const wasAsleep = faults.asleep;
    faults = { ...faults, ...patch };
    if (faults.asleep && !wasAsleep) await close();
    if (!faults.asleep && wasAsleep) listen();
  }

  const controls: Controls = {
    counters,
    faults: () => faults,
    resident: () => scheduler.resident().map((e) => e.display),
    resetCounters: () => zeroCounters(counters),
    async setFaults(patch, wakeAfterMs) {
      const { asleep, ...rest } = patch;
      await setFaults(rest);
      if (asleep === undefined) return;
      // Let this control reply leave before the port closes.
      setTimeout(() => {
        void setFaults({ asleep }).then(() => {
          clearTimeout(wakeTimer);
          if (asleep && wakeAfterMs !== undefined) wakeTimer = setTimeout(() => void setFaults({ asleep: false }), wakeAfterMs);
        });
      }, 10);
    },
  };

  listen();
  if (faults.asleep) await close();

  return {
    get url() {
      return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
    },
    get port() {
      return port;
    },
    counters,
    faults: () => ({ ...faults }),
    setFaults,
    resetCounters: controls.resetCounters,
    resident: controls.resident,
    async stop() {
      stopped = true;
      clearTimeout(wakeTimer);
      await close();
      scheduler.stop();
    },
  };
}

// The poller knows whether the target is up and which models are resident. Liveness comes
// from HEAD / (cheap, answers during loads); /api/tags and /api/ps are refreshed beside it
// with timeouts, since /api/ps blocks while a model loads. While the target is down the
// poll interval backs off exponentially, capped.
import type { Logger } from "../ops/log.ts";
import { modelKey } from "../ollama/model-name.ts";
import type { TargetClient } from "../target/client.ts";
import { unreachableHint } from "../target/errors.ts";

export interface PollerOptions {
  intervalMs: number;
  maxBackoffMs: number;
}

export interface CachedReply {
  status: number;
  text: string;
  contentType: string;
  at: number;
}

export class Poller {
  up: boolean | null = null;
  since = Date.now();
  /** What the last change of `up` was based on; while down, the latest probe's cause. */
  reason = "not polled yet";
  /** Resident models (keys), most recently used first. */
  resident: string[] = [];
  /** The last good /api/tags reply, served while the target is unreachable. */
  tags: CachedReply | null = null;
  /** The models (keys) that reply lists. */
  private listed = new Set<string>();
  errors = 0;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private inFlight: Promise<void> | undefined;
  /** The /api/tags request in flight, when it was sent, and whether it brought a good reply. */
  private tagsFetch: { sentAt: number; ok: Promise<boolean> } | undefined;
  private readonly listeners: ((up: boolean) => void)[] = [];

  constructor(
    private readonly target: TargetClient,
    private readonly options: PollerOptions,
    private readonly log: Logger,
  ) {}

  onChange(listener: (up: boolean) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One poll now (coalesced with one already running). */
  poll(): Promise<void> {
    return (this.inFlight ??= this.pollOnce().finally(() => (this.inFlight = undefined)));
  }

  /** The worker saw the target fail: believe it at once and poll with back-off. */
  markDown(reason: string): void {
    this.setUp(false, reason);
    this.schedule(this.delay());
  }

  /** An unload of this model went to the target: it is on its way out, whatever the last poll said. */
  noteUnloaded(model: string): void {
    const key = modelKey(model);
    this.resident = this.resident.filter((m) => m !== key);
  }

  /** The worker just ran work on this model, so it is resident now, whatever the last poll said. */
  noteResident(model: string): void {
    const key = modelKey(model);
    this.resident = [key, ...this.resident.filter((m) => m !== key)];
  }

  isResident(model: string): boolean {
    return this.resident.includes(modelKey(model));
  }

  /** While the target is down: that it is unreachable, since when and why, for callers told so. */
  unreachable(): string | null {
    return this.up === false ? `the target is unreachable since ${new Date(this.since).toISOString()} (${this.reason})` : null;
  }

  /** Whether the target's last good /api/tags lists this model. */
  lists(model: string): boolean {
    return this.listed.has(modelKey(model));
  }

  /**
   * Whether the target does not have `model`, asked at `askedAt` (performance.now()): true only
   * when an /api/tags sent after that moment answered without it. A model the last good copy
   * lists is taken as there; a target not known to be up, or that does not answer, cannot say.
   * Callers asking together share one request, as long as it was sent after they asked. A caller
   * waits for the answer at most `waitMs`: past that the target cannot say (it is slow to list its
   * models, or stalls mid-reply), and the request goes on to the queue as if the model were there.
   */
  async lacks(model: string, askedAt: number, waitMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (this.lists(model) || this.up !== true) return false;
    let asked = this.tagsFetch;
    if (!asked || asked.sentAt < askedAt) {
      const mine = { sentAt: performance.now(), ok: this.refreshTags() };
      this.tagsFetch = asked = mine;
      void mine.ok.finally(() => {
        if (this.tagsFetch === mine) this.tagsFetch = undefined;
      });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => (timer = Number.isFinite(waitMs) ? setTimeout(() => resolve(false), waitMs) : undefined));
    try {
      return (await Promise.race([asked.ok, late])) && !this.lists(model);
    } finally {
      clearTimeout(timer);
    }
  }

  private delay(): number {
    if (this.up !== false) return this.options.intervalMs;
    return Math.min(this.options.intervalMs * 2 ** Math.min(this.failures, 20), this.options.maxBackoffMs);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule(this.delay()));
    }, ms);
  }

  private async pollOnce(): Promise<void> {
    const probe = await this.target.probe();
    if (!probe.up) {
      this.failures++;
      this.errors++;
      this.setUp(false, `liveness probe: ${probe.cause}`);
      return;
    }
    this.failures = 0;
    this.setUp(true, "liveness probe answered");
    await Promise.all([this.refreshTags(), this.refreshResident()]);
  }

  /** Asks the target for /api/tags; says whether a good reply (Ollama's shape: a list of models) came. */
  private async refreshTags(): Promise<boolean> {
    try {
      const reply = await this.target.getJson("/api/tags");
      return this.noteTags(reply.status, reply.text, reply.contentType);
    } catch (err) {
      this.errors++;
      this.log.debug("poll /api/tags failed", { error: (err as Error).message });
      return false;
    }
  }

  /**
   * An /api/tags reply, asked by the poller or by a client: a good one (Ollama's shape, a list
   * of models) becomes the last good copy. Says whether it was good.
   */
  noteTags(status: number, text: string, contentType: string): boolean {
    if (status !== 200) return false;
    let models: unknown;
    try {
      models = (JSON.parse(text) as { models?: unknown }).models;
    } catch {
      return false;
    }
    if (!Array.isArray(models)) return false;
    this.listed = new Set((models as { model?: string; name?: string }[]).map((m) => modelKey(m.model ?? m.name ?? "")));
    this.tags = { status, text, contentType, at: Date.now() };
    return true;
  }

  /** Asks the target which models are resident (/api/ps); on no answer, keeps what it knew. */
  async refreshResident(): Promise<void> {
    try {
      const reply = await this.target.getJson("/api/ps");
      if (reply.status !== 200) return;
      const models = ((JSON.parse(reply.text) as { models?: { model?: string; name?: string }[] | null }).models ?? []).map((m) => modelKey(m.model ?? m.name ?? ""));
      // keep our most-recently-used order for models that are still there
      this.resident = [...this.resident.filter((m) => models.includes(m)), ...models.filter((m) => !this.resident.includes(m))];
    } catch (err) {
      // /api/ps blocks during a load: keep what we knew
      this.errors++;
      this.log.debug("poll /api/ps failed", { error: (err as Error).message });
    }
  }

  /** While the target is down: what to try, for the cause seen (the Mac's OLLAMA_HOST, …), if anything is known. */
  hint(): string | undefined {
    return this.up === false ? unreachableHint(this.reason.replace(/^liveness probe: |^target \S+ is unreachable: /, ""), this.target.displayUrl) : undefined;
  }

  private setUp(up: boolean, reason: string): void {
    if (this.up === up) {
      // still down, maybe for another reason now (refused, then timed out): /status shows the latest
      if (!up) this.reason = reason;
      return;
    }
    this.up = up;
    this.since = Date.now();
    this.reason = reason;
    if (!up) this.failures = Math.max(this.failures, 1);
    const hint = this.hint();
    this.log.info(up ? "target is up" : "target is down", { reason, ...(hint ? { hint } : {}) });
    for (const l of this.listeners) l(up);
  }
}

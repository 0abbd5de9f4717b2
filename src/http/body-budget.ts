// The memory request bodies read whole may take at once (FOREMAN_BODY_BUDGET_BYTES, ADR 0029).
// Each body is bounded by FOREMAN_MAX_BODY_BYTES, but nothing bounded how many were read at
// once: sixteen 60 MB bodies took foreman past 3 GiB. Every route that reads a body whole takes
// its bytes from this one budget before reading them and gives them back once its handler has
// answered; a body that does not fit waits its turn, in arrival order, within the time the body
// has to arrive, and is then refused with a 503. Bodies that stream on (blob uploads) never
// enter it.

/**
 * Whether `bytes` more fit beside `inUse` in `budget`. A body larger than the whole budget is
 * taken alone (when nothing else is in flight) rather than never: the size limit, not the
 * budget, decides which bodies are too large.
 */
export function fits(inUse: number, bytes: number, budget: number): boolean {
  return inUse === 0 || inUse + bytes <= budget;
}

interface Waiter {
  bytes: number;
  resolve(taken: boolean): void;
}

export class BodyBudget {
  private inUse = 0;
  /** First come, first served: a large body is not starved by a stream of small ones. */
  private readonly waiters: Waiter[] = [];

  constructor(readonly budget: number) {}

  /** Bytes taken by bodies in flight now. */
  get used(): number {
    return this.inUse;
  }

  /** Takes `bytes`, waiting for room until `deadline` settles; false when it did first. */
  async take(bytes: number, deadline: Promise<unknown>): Promise<boolean> {
    if (this.waiters.length === 0 && fits(this.inUse, bytes, this.budget)) {
      this.inUse += bytes;
      return true;
    }
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const waiter = { bytes, resolve };
    this.waiters.push(waiter);
    deadline.then(
      () => this.abandon(waiter),
      () => this.abandon(waiter),
    );
    return promise;
  }

  give(bytes: number): void {
    this.inUse -= bytes;
    this.serve();
  }

  private abandon(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i === -1) return;
    this.waiters.splice(i, 1);
    waiter.resolve(false);
    this.serve(); // the head may have been what held the rest back
  }

  private serve(): void {
    while (this.waiters.length > 0 && fits(this.inUse, this.waiters[0]!.bytes, this.budget)) {
      const next = this.waiters.shift()!;
      this.inUse += next.bytes;
      next.resolve(true);
    }
  }
}

// How many deliveries one destination may have in flight: a circuit breaker with a slow start,
// as a pure function of what the destination has shown since foreman started (ADR 0029). A
// destination gets no more slots than it has proven it can use, so receivers that never answer
// cannot fill the global cap and stall a healthy one:
//   1. a destination not heard from yet gets one slot; every answer doubles its slots, up to
//      the per-destination cap;
//   2. an attempt that got no answer (timeout, refused or dropped connection, a name that does
//      not resolve) opens the breaker: no attempt until a cool-down has passed, then one probe
//      at a time until one answers, which closes it again (back to rule 1's one slot);
//   3. the cool-down after k silent attempts in a row is the retry schedule's k-th step,
//      capped at a minute: a dead receiver is probed about as often as a delivery is retried,
//      and one that comes back is found within a minute;
//   4. every destination whose breaker is open shares half the global cap, so even more dead
//      destinations than the cap leave the other half to receivers that answer.
// Any HTTP answer counts as an answer (a 500 comes back promptly; the back-off handles it).

export interface DestinationHealth {
  /** Deliveries it may have in flight while it answers (rule 1). */
  slots: number;
  /** Attempts in a row that got no answer; above 0 the breaker is open (rule 2). */
  silent: number;
  /** With the breaker open, no probe starts before this time (ms since the epoch). */
  probeAt: number;
}

export interface Caps {
  /** Deliveries in flight at once, over all destinations. */
  concurrency: number;
  /** Deliveries in flight at once to one destination. */
  perDestination: number;
}

/** In flight now: to this destination, to every destination whose breaker is open, in all. */
export interface InFlight {
  here: number;
  open: number;
  all: number;
}

/** A destination not heard from yet. */
export const UNKNOWN: DestinationHealth = { slots: 1, silent: 0, probeAt: 0 };

/** The longest cool-down: a destination that comes back is tried again within this (rule 3). */
export const MAX_COOL_DOWN_MS = 60_000;

export const isOpen = (health: DestinationHealth): boolean => health.silent > 0;

/** How many more deliveries to this destination may start now. */
export function freeSlots(health: DestinationHealth, inFlight: InFlight, now: number, caps: Caps): number {
  const global = caps.concurrency - inFlight.all;
  if (!isOpen(health)) return Math.max(0, Math.min(health.slots - inFlight.here, global));
  if (now < health.probeAt) return 0; // rule 3
  // rule 2: one probe at a time; rule 4: open breakers share half the global cap
  const share = Math.max(1, Math.floor(caps.concurrency / 2)) - inFlight.open;
  return Math.max(0, Math.min(1 - inFlight.here, share, global));
}

/** The destination answered (any HTTP status): the breaker closes, and its slots double (rule 1). */
export function answered(health: DestinationHealth, caps: Caps): DestinationHealth {
  if (isOpen(health)) return UNKNOWN;
  return { slots: Math.min(caps.perDestination, health.slots * 2), silent: 0, probeAt: 0 };
}

/** An attempt got no answer: the breaker opens, or stays open for a longer cool-down (rules 2, 3). */
export function unanswered(health: DestinationHealth, now: number, schedule: readonly number[]): DestinationHealth {
  const silent = health.silent + 1;
  const step = schedule[Math.min(silent, schedule.length) - 1] ?? 0;
  return { slots: 1, silent, probeAt: now + Math.min(step, MAX_COOL_DOWN_MS) };
}

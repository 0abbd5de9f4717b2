// The simulator's own control API under /_sim/ (a prefix Ollama never uses),
// so tests in other processes can flip faults and read counters over HTTP.

import { json, methodNotAllowed, notFound } from "./http.ts";
import type { SimCounters, SimFaults } from "./types.ts";

export interface Controls {
  counters: SimCounters;
  faults(): SimFaults;
  resident(): string[];
  resetCounters(): void;
  /** Applies a fault patch; `wakeAfterMs` schedules the end of `asleep`. */
  setFaults(patch: Partial<SimFaults>, wakeAfterMs?: number): Promise<void>;
}

export const CONTROL_PREFIX = "/_sim/";

function state(c: Controls): Response {
  return json({ counters: c.counters, faults: c.faults(), resident: c.resident() });
}

export async function control(c: Controls, req: Request): Promise<Response> {
  const path = new URL(req.url).pathname.slice(CONTROL_PREFIX.length);
  if (path === "state") return req.method === "GET" ? state(c) : methodNotAllowed();
  if (path === "reset") {
    if (req.method !== "POST") return methodNotAllowed();
    c.resetCounters();
    return state(c);
  }
  if (path === "faults") {
    if (req.method !== "POST") return methodNotAllowed();
    let patch: unknown;
    try {
      patch = await req.json();
    } catch {
      return json({ error: "invalid JSON" }, 400);
    }
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return json({ error: "expected a JSON object" }, 400);
    const { wakeAfterMs, ...faults } = patch as Partial<SimFaults> & { wakeAfterMs?: unknown };
    await c.setFaults(faults, typeof wakeAfterMs === "number" ? wakeAfterMs : undefined);
    return state(c);
  }
  return notFound();
}

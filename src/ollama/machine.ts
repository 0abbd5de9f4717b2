// The machine facts the Host guard needs (its hostname, the addresses of its interfaces),
// read from the OS once, at start-up, by the servers that apply the edge policy: foreman's
// edge and the simulator's. The policy itself (origin-policy.ts) stays pure.
import { hostname, networkInterfaces } from "node:os";
import type { Machine } from "./origin-policy.ts";

export function thisMachine(listenHost: string): Machine {
  const interfaceAddresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
  return { listenHost, hostname: hostname(), interfaceAddresses };
}

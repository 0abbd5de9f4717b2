// Wake-on-LAN (ADR 0022): a Mac that sleeps drops off the network, and foreman holds its work
// until it is back; with FOREMAN_WAKE_MAC set, foreman also brings it back — a magic packet when
// work is queued and the poller says the target is down, then at most once per
// FOREMAN_WAKE_INTERVAL_MS while it stays down. Work waiting for its time (a scheduled start,
// a back-off) wakes it when it falls due, not before (ADR 0035). The decision is a pure function; the Waker is
// its shell: it listens to the poller and to the queue, keeps one timer and one UDP socket.
import type { Config } from "../config.ts";
import type { Logger } from "../ops/log.ts";
import type { Queue } from "../queue/queue.ts";
import { magicPacket } from "../target/wake.ts";
import type { Poller } from "./poller.ts";
import { delayUntil } from "../queue/schedule.ts";

export interface WakeState {
  /** The poller's view: true up, false down, null not probed yet. */
  targetUp: boolean | null;
  /** Jobs or passthrough requests waiting that may run now (not a scheduled start or a back-off still to come). */
  queued: number;
  /** When the next job waiting for its time (a scheduled start, a back-off) falls due, or null (ADR 0035). */
  nextDueAt: number | null;
  /** When the last packet went out (ms), or null. */
  lastSentAt: number | null;
  intervalMs: number;
  now: number;
}

export type WakeDecision = { kind: "never" } | { kind: "at"; at: number } | { kind: "now" };

export function wakeDecision(s: WakeState): WakeDecision {
  // 1. only a target the poller saw down is woken (up, or not probed yet: nothing to do)
  if (s.targetUp !== false) return { kind: "never" };
  // 2. only when work that may run now waits for it (a sleeping target with nothing to do may
  //    sleep on); work not due yet wakes it when it falls due, not before
  if (s.queued === 0) return s.nextDueAt === null ? { kind: "never" } : { kind: "at", at: s.nextDueAt };
  // 3. at once the first time, then at most once per interval while it stays down
  if (s.lastSentAt === null || s.now >= s.lastSentAt + s.intervalMs) return { kind: "now" };
  return { kind: "at", at: s.lastSentAt + s.intervalMs };
}

type UdpSocket = Bun.udp.Socket<"buffer">;

export class Waker {
  /** Packets sent. */
  sent = 0;
  lastSentAt: number | null = null;
  /** Why the last send failed, if it did. */
  lastError: string | null = null;
  readonly mac: string;
  readonly addr: string;
  private readonly intervalMs: number;
  private readonly packet: Uint8Array;
  private readonly host: string;
  private readonly port: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private socket: Promise<UdpSocket> | undefined;
  private stopped = true;

  constructor(
    config: Pick<Config, "wakeAddr" | "wakeIntervalMs"> & { wakeMac: string },
    wake: { mac: Uint8Array; host: string; port: number },
    private readonly poller: Poller,
    private readonly queue: Queue,
    private readonly log: Logger,
  ) {
    this.mac = config.wakeMac;
    this.addr = config.wakeAddr;
    this.intervalMs = config.wakeIntervalMs;
    this.packet = magicPacket(wake.mac);
    this.host = wake.host;
    this.port = wake.port;
  }

  /** Listens to the poller (the target went down) and to the queue (work arrived). */
  start(): void {
    this.stopped = false;
    this.poller.onChange(() => this.check());
    this.queue.onCommitted((_job, event) => {
      if (event.type === "queued") this.check();
    });
    this.queue.onRunnable(() => this.check());
    this.check();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    (await socket?.catch(() => undefined))?.close();
  }

  private check(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const now = Date.now();
    const queued = this.queue.queuedCount - this.queue.notDueCount(now);
    const nextDueAt = queued === 0 ? this.queue.nextRelease() : null;
    const decision = wakeDecision({ targetUp: this.poller.up, queued, nextDueAt, lastSentAt: this.lastSentAt, intervalMs: this.intervalMs, now });
    if (decision.kind === "at") this.timer = setTimeout(() => this.check(), delayUntil(decision.at, now));
    if (decision.kind !== "now") return;
    this.lastSentAt = now;
    this.sent++;
    void this.send().then(
      () => {
        this.lastError = null;
        this.log.info("wake-on-LAN packet sent to the target", { mac: this.mac, addr: this.addr });
      },
      (err: Error) => {
        this.lastError = err.message;
        this.log.warn("could not send the wake-on-LAN packet", { mac: this.mac, addr: this.addr, error: err.message });
      },
    );
    this.timer = setTimeout(() => this.check(), this.intervalMs);
  }

  private async send(): Promise<void> {
    this.socket ??= Bun.udpSocket({ binaryType: "buffer" }).then((s) => {
      s.setBroadcast(true);
      return s;
    });
    const socket = await this.socket;
    if (!socket.send(this.packet, this.port, this.host)) throw new Error("the socket did not take the packet");
  }
}

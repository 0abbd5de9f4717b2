// Webhook receivers for the webhook tests, on loopback port 0: every request is kept (failed
// ones too, with its headers), and each is answered by the test's rule — a status, or "hang"
// for a receiver that takes the request and never answers. And a job's deliveries as listed.
import type { Job } from "../../src/queue/view.ts";
import type { DeliveryView } from "../../src/webhooks/deliveries.ts";

/** GET /jobs/{id}/deliveries */
export async function deliveriesOf(base: string, job: string): Promise<DeliveryView[]> {
  return ((await (await fetch(`${base}/jobs/${job}/deliveries`)).json()) as { deliveries: DeliveryView[] }).deliveries;
}

export interface Hit {
  headers: Headers;
  body: string;
  json: { type: string; timestamp: string; data: Job };
}

export type Answer = number | "hang";

export interface Receiver {
  url: string;
  port: number;
  /** Every request, in arrival order. */
  hits: Hit[];
  /** Requests being held open now ("hang"), and the most held at once. */
  readonly open: number;
  readonly maxOpen: number;
  stop(): void;
}

export function startReceiver(answer: (hit: Hit, index: number) => Answer = () => 200, options: { tls?: { cert: string; key: string } } = {}): Receiver {
  const hits: Hit[] = [];
  let open = 0;
  let maxOpen = 0;
  const release = Promise.withResolvers<void>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    ...(options.tls ? { tls: options.tls } : {}),
    async fetch(req) {
      const body = await req.text();
      const hit: Hit = { headers: req.headers, body, json: JSON.parse(body) };
      hits.push(hit);
      const reply = answer(hit, hits.length - 1);
      if (reply !== "hang") return new Response(reply === 200 ? "ok" : "no", { status: reply });
      open++;
      maxOpen = Math.max(maxOpen, open);
      await release.promise;
      open--;
      return new Response("too late", { status: 503 });
    },
  });
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${server.port}/hook`,
    port: server.port!,
    hits,
    get open() {
      return open;
    },
    get maxOpen() {
      return maxOpen;
    },
    stop() {
      release.resolve();
      void server.stop(true);
    },
  };
}

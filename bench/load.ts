// A load generator in its own process, so the server under test has a core to itself:
// bun bench/load.ts <url> <requests> <concurrency> <method> [body]  → prints a JSON summary.
const [url, total, concurrency, method, body] = process.argv.slice(2);
const N = Number(total);
let next = 0;
const statuses: Record<number, number> = {};
const latencies: number[] = [];
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (next < N) {
      next++;
      const t = performance.now();
      const res = await fetch(url!, { method, body: body || undefined, headers: body ? { "content-type": "application/json" } : {} });
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ perSecond: N / seconds, seconds, statuses, p50: latencies[Math.floor(N / 2)], p99: latencies[Math.floor(N * 0.99)] }));
export {};

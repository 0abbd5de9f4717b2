// Stopping the dispatcher is bounded: a send stuck where no abort reaches it (here the disk,
// which never answers the fsync a delivery waits for) does not hold foreman's stop forever.
import { afterEach, expect, test } from "bun:test";
import { createLogger } from "../../src/ops/log.ts";
import { Counter, Histogram } from "../../src/ops/metrics.ts";
import { openStore, type Store } from "../../src/store/open.ts";
import { Deliveries } from "../../src/webhooks/deliveries.ts";
import { Dispatcher } from "../../src/webhooks/dispatcher.ts";
import { WebhookGuard } from "../../src/webhooks/guard.ts";
import { parseAllowList, type AllowList } from "../../src/webhooks/policy.ts";
import { waitFor } from "../harness.ts";

let store: Store | undefined;
afterEach(() => store?.close());

test("stop() returns while a delivery still waits for a disk that never answers; the delivery stays due", async () => {
  store = openStore(":memory:");
  const rows = new Deliveries(store.db);
  rows.add(1, "a", "job.queued", "http://127.0.0.1:1/hook", "{}", Date.now() - 1);
  let waiting = 0;
  const neverOnDisk = () => {
    waiting++;
    return new Promise<void>(() => {});
  };
  const meter = {
    webhookDeliveries: new Counter("d", "d"),
    webhookFailed: new Counter("f", "f"),
    webhookLag: new Histogram("l", "l"),
    databaseErrors: new Counter("e", "e"),
  };
  const lines: string[] = [];
  const log = createLogger({ level: "warn", format: "json", write: (line) => lines.push(line) });
  const dispatcher = new Dispatcher(rows, new WebhookGuard(parseAllowList("127.0.0.1") as AllowList), log, meter, neverOnDisk);
  dispatcher.start();
  await waitFor(() => waiting === 1, { what: "the delivery to wait for the disk" });
  await dispatcher.stop();
  expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["webhook deliveries still in flight at stop; they are sent after the restart"]);
  expect(rows.due("http://127.0.0.1:1", Date.now(), 10).map((r) => r.job_id)).toEqual(["a"]);
});

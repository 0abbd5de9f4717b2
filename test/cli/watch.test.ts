// `foreman jobs watch` attached mid-job, on a real terminal: the text the job generated before
// the watch started is on the screen too, once, and the replayed queued line keeps its position.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ForemanClient } from "foreman/client";
import { BUN, MAIN, startStack, waitFor, type Stack } from "../harness.ts";
import { openTerminal, TMUX } from "./terminal.ts";

setDefaultTimeout(60_000);

let stack: Stack;
let client: ForemanClient;

beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 25, loadMs: 5 } });
  client = new ForemanClient({ baseUrl: stack.url });
});

afterAll(async () => {
  await stack.stop();
});

describe("foreman jobs watch", () => {
  test.skipIf(!TMUX)("started mid-job shows the whole answer, once, and the queue position the job had", async () => {
    const chat = (content: string, tokens: number) => ({ request: { model: "llama3.2", messages: [{ role: "user", content }], options: { num_predict: tokens } } });
    const first = await client.submit(chat("hold the worker", 40));
    await waitFor(() => stack.foreman.services.worker.liveSoFar(first.id), { what: "the first job to generate" });
    const second = await client.submit(chat("wait your turn", 1));
    const job = await client.submit(chat("a long answer", 120));
    expect(job.queue_position).toBe(1);
    await waitFor(() => (stack.foreman.services.worker.liveSoFar(job.id)?.text.length ?? 0) >= 30, { what: "the job to have generated some text" });
    const term = await openTerminal([BUN, MAIN, "jobs", "watch", job.id], { env: { FOREMAN_URL: stack.url }, cols: 200, rows: 60 });
    try {
      const screen = await term.waitForScreen((s) => /^done {5}\d+ tokens/m.test(s), "the job to end on the screen", 30_000);
      expect(await term.exitCode()).toBe(0);
      const artifact = (await client.artifact(job.id)) as { message: { content: string } };
      const lines = screen.split("\n");
      expect(lines[0]).toBe("queued   1 ahead");
      // the answer between the state lines is the whole of it, not the part after the watch began
      const answer = lines.slice(lines.findIndex((l) => l.startsWith("working")) + 1, lines.findIndex((l) => l.startsWith("done"))).join("\n");
      expect(answer).toBe(artifact.message.content);
    } finally {
      await term.stop();
      await client.wait(first.id);
      await client.wait(second.id);
    }
  });
});

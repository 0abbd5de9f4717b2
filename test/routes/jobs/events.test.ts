// GET /jobs/{id}/events for a subscriber that attaches late: the text the job generated before
// it came, then the rest, so the whole output arrives once; and a replayed `job.queued` with the
// queue position the job had then.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { chatRequest, getJob, postJob, sharedStack, waitFor } from "../../harness.ts";

setDefaultTimeout(60_000);

const stack = sharedStack({ sim: { tokenDelayMs: 20, loadMs: 5 } });

interface SseEvent {
  id?: string;
  event?: string;
  data: any;
}

async function readEvents(res: Response): Promise<SseEvent[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((b) => b.trim() && !b.startsWith(":"))
    .map((block) => {
      const fields = Object.fromEntries(block.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]));
      return { id: fields.id, event: fields.event, data: JSON.parse(fields.data!) };
    });
}

/** A chat job that generates `tokens` tokens (20 ms each on this simulator). */
const longChat = (content: string, tokens: number) => ({ request: { ...chatRequest("llama3.2", content), options: { num_predict: tokens } } });

describe("a late subscriber", () => {
  test("gets the text generated before it attached first (offset 0), then the rest: the whole output, once", async () => {
    const { job } = await postJob(stack.url, longChat("a long answer", 150));
    // attach only once the job has generated some of its text
    await waitFor(() => (stack.foreman.services.worker.liveSoFar(job.id)?.text.length ?? 0) >= 20, { what: "the job to have generated some text" });
    const events = await readEvents(await fetch(`${stack.url}/jobs/${job.id}/events`));
    const progress = events.filter((e) => e.event === "job.progress").map((e) => e.data as { text: string; offset: number });
    expect(progress[0]!.offset).toBe(0);
    expect(progress[0]!.text.length).toBeGreaterThanOrEqual(20);
    // each event starts where the one before it ended
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.offset).toBe(progress[i - 1]!.offset + [...progress[i - 1]!.text].length);
    const artifact = (await (await fetch(`${stack.url}/jobs/${job.id}/artifact`)).json()) as { message: { content: string } };
    expect(progress.map((p) => p.text).join("")).toBe(artifact.message.content);
    expect(events.at(-1)!.event).toBe("job.done");
  });

  test("the replayed job.queued keeps the queue position the job had; the latest state counts it now", async () => {
    const { job: running } = await postJob(stack.url, longChat("hold the worker", 60));
    await waitFor(() => stack.foreman.services.worker.liveSoFar(running.id), { what: "the first job to generate" });
    const { job: second } = await postJob(stack.url, longChat("second", 1));
    const { job: third } = await postJob(stack.url, longChat("third", 1));
    expect([second.queue_position, third.queue_position]).toEqual([0, 1]);
    // while the third still waits, its event stream's job.queued is its latest state: counted now
    const res = await fetch(`${stack.url}/jobs/${third.id}/events`);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(first).toContain("event: job.queued");
    expect(JSON.parse(first.slice(first.indexOf("data: ") + 6, first.indexOf("\n\n", first.indexOf("data: "))))).toMatchObject({ status: "queued", queue_position: 1 });
    // once it ran, the replay shows the place it had when it was queued
    expect((await getJob(stack.url, third.id, 30)).status).toBe("done");
    const events = await readEvents(await fetch(`${stack.url}/jobs/${third.id}/events`));
    expect(events[0]).toMatchObject({ event: "job.queued", data: { status: "queued", queue_position: 1 } });
    expect(events.at(-1)).toMatchObject({ event: "job.done", data: { queue_position: null } });
  });
});

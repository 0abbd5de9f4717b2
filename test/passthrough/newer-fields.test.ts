// What newer Ollama releases added to endpoints foreman knows passes through without tripping
// foreman's own checks (ADR 0031, ../shared/ollama-wire.md §11): `think` as a level or a
// boolean, media inputs to /api/embed, the structured context-overflow error, a pull's 412 —
// through the passthrough the same as directly, and accepted by POST /jobs where it applies.
import { describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { NEWER_OLLAMA_MESSAGE } from "../../src/sim/models.ts";
import { getJob, postJob, sharedStack } from "../harness.ts";

const stack = sharedStack({ sim: { tokenDelayMs: 0, loadMs: 0 } });

/** A reply with what differs between two runs (clocks, durations) masked. */
const steady = (text: string) => text.replace(/"(created_at|[a-z_]*duration)":("[^"]*"|\d+)/g, '"$1":0');

async function both(path: string, body: unknown): Promise<{ direct: [number, string | null, string]; via: [number, string | null, string] }> {
  const send = async (base: string): Promise<[number, string | null, string]> => {
    const res = await fetch(`${base}${path}`, { method: "POST", body: JSON.stringify(body) });
    return [res.status, res.headers.get("content-type"), steady(await res.text())];
  };
  return { direct: await send(stack.sim.url), via: await send(stack.url) };
}

const message = [{ role: "user", content: "why is the sky blue?" }];

describe("think", () => {
  test('as "low" | "medium" | "high" | "max" or a boolean: the same reply through foreman as directly, and a bad level is the target\'s 400', async () => {
    for (const think of ["low", "medium", "high", "max", true, false, "extreme"]) {
      for (const [path, body] of [
        ["/api/chat", { model: "qwen3:0.6b", messages: message, think, stream: false }],
        ["/api/generate", { model: "qwen3:0.6b", prompt: "hi", think }],
      ] as const) {
        const { direct, via } = await both(path, body);
        expect({ path, think, via }).toEqual({ path, think, via: direct });
        expect({ path, think, status: direct[0] }).toEqual({ path, think, status: think === "extreme" ? 400 : 200 });
      }
    }
  });

  test("POST /jobs takes a level", async () => {
    const { status, job } = await postJob(stack.url, { request: { model: "qwen3:0.6b", messages: message, think: "max" } });
    expect(status).toBe(202);
    const done = await getJob(stack.url, job.id, 10);
    expect(done.status).toBe("done");
  });
});

describe("media inputs to /api/embed", () => {
  const image = Buffer.from("a tiny png").toString("base64");
  const body = { model: "nomic-embed-text", input: [{ image, text: "a cat" }, "a dog"] };

  test("the same vectors through foreman as directly, through the queue", async () => {
    const { direct, via } = await both("/api/embed", body);
    expect(via).toEqual(direct);
    expect(direct[0]).toBe(200);
  });

  test("POST /jobs takes them", async () => {
    const { status, job } = await postJob(stack.url, { endpoint: "/api/embed", request: body });
    expect(status).toBe(202);
    expect((await getJob(stack.url, job.id, 10)).status).toBe("done");
  });
});

describe("a prompt over the context with truncate:false", () => {
  const body = { model: "llama3.2", messages: [{ role: "user", content: "word ".repeat(200) }], options: { num_ctx: 64 }, truncate: false, stream: false };

  test("the structured error object passes through unchanged", async () => {
    const { direct, via } = await both("/api/chat", body);
    expect(via).toEqual(direct);
    expect(direct[0]).toBe(400);
    expect(JSON.parse(direct[2])).toEqual({ error: { code: 400, message: expect.stringContaining("exceeds the available context size (64 tokens)"), type: "exceed_context_size_error", n_prompt_tokens: expect.any(Number), n_ctx: 64 } });
  });

  test("a job fails with its message", async () => {
    const { job } = await postJob(stack.url, { request: body });
    const ended = await getJob(stack.url, job.id, 10);
    expect(ended.status).toBe("failed");
    expect(ended.error).toMatchObject({ status: 400, message: expect.stringContaining("exceeds the available context size") });
  });
});

describe("a pull of a model that needs a newer Ollama", () => {
  test("is the target's 412, streamed or not, and ollama-js reports it", async () => {
    for (const stream of [true, false]) {
      const { direct, via } = await both("/api/pull", { model: "llama5", stream });
      expect({ stream, via }).toEqual({ stream, via: direct });
      expect(direct[0]).toBe(412);
    }
    const err = await new Ollama({ host: stack.url }).pull({ model: "llama5" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status_code: 412, error: NEWER_OLLAMA_MESSAGE });
  });
});

// The official ollama and openai npm clients through foreman give the same results as
// talking to the simulator directly, streaming and not.
import { beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { sharedStack } from "../harness.ts";

const stack = sharedStack({ sim: { tokenDelayMs: 2, loadMs: 5 } });
let direct: Ollama;
let via: Ollama;
let directAI: OpenAI;
let viaAI: OpenAI;
beforeAll(() => {
  direct = new Ollama({ host: stack.sim.url });
  via = new Ollama({ host: stack.url });
  directAI = new OpenAI({ baseURL: `${stack.sim.url}/v1`, apiKey: "x" });
  viaAI = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "x" });
});

const messages = [{ role: "user" as const, content: "why is the sky blue?" }];

describe("ollama client through foreman", () => {
  test("chat, not streamed", async () => {
    const [a, b] = [await direct.chat({ model: "llama3.2", messages }), await via.chat({ model: "llama3.2", messages })];
    expect(b.message).toEqual(a.message);
    expect([b.done, b.done_reason, b.eval_count]).toEqual([a.done, a.done_reason, a.eval_count]);
  });

  test("chat, streamed", async () => {
    const collect = async (c: Ollama) => {
      const parts: string[] = [];
      let last: { done_reason?: string } = {};
      for await (const part of await c.chat({ model: "llama3.2", messages, stream: true })) {
        parts.push(part.message.content);
        last = part;
      }
      return { parts, reason: last.done_reason };
    };
    const [a, b] = [await collect(direct), await collect(via)];
    expect(b).toEqual(a);
    expect(b.parts.length).toBeGreaterThan(3);
  });

  test("generate, streamed and not", async () => {
    const a = await direct.generate({ model: "llama3.2", prompt: "once upon a time" });
    const b = await via.generate({ model: "llama3.2", prompt: "once upon a time" });
    expect(b.response).toEqual(a.response);
    expect(b.context).toEqual(a.context);
    let text = "";
    for await (const part of await via.generate({ model: "llama3.2", prompt: "once upon a time", stream: true })) text += part.response;
    expect(text).toEqual(String(a.response));
  });

  test("embed and the legacy embeddings", async () => {
    expect((await via.embed({ model: "nomic-embed-text", input: ["a", "b"] })).embeddings).toEqual((await direct.embed({ model: "nomic-embed-text", input: ["a", "b"] })).embeddings);
    expect((await via.embeddings({ model: "nomic-embed-text", prompt: "a" })).embedding).toEqual((await direct.embeddings({ model: "nomic-embed-text", prompt: "a" })).embedding);
  });

  test("list, ps, show, version go straight through", async () => {
    expect((await via.list()).models.map((m) => m.name)).toEqual((await direct.list()).models.map((m) => m.name));
    expect(await via.version()).toEqual(await direct.version());
    expect((await via.show({ model: "llama3.2" })).details).toEqual((await direct.show({ model: "llama3.2" })).details);
    expect((await via.ps()).models.map((m) => m.name)).toEqual((await direct.ps()).models.map((m) => m.name));
  });

  test("an unknown model is the client's 404 error", async () => {
    const err = (await via.chat({ model: "no-such-model", messages }).catch((e) => e)) as { status_code?: number; error?: string };
    expect(err.status_code).toBe(404);
    expect(err.error).toBe("model 'no-such-model' not found");
  });
});

describe("openai client through foreman", () => {
  test("chat completions, not streamed", async () => {
    const a = await directAI.chat.completions.create({ model: "llama3.2", messages });
    const b = await viaAI.chat.completions.create({ model: "llama3.2", messages });
    expect(b.choices).toEqual(a.choices);
    expect(b.usage).toEqual(a.usage);
  });

  test("chat completions, streamed with usage", async () => {
    const collect = async (c: OpenAI) => {
      const parts: string[] = [];
      let usage: unknown;
      for await (const chunk of await c.chat.completions.create({ model: "llama3.2", messages, stream: true, stream_options: { include_usage: true } })) {
        if (chunk.choices[0]?.delta.content) parts.push(chunk.choices[0].delta.content);
        if (chunk.usage) usage = chunk.usage;
      }
      return { parts, usage };
    };
    expect(await collect(viaAI)).toEqual(await collect(directAI));
  });

  test("completions and embeddings", async () => {
    expect((await viaAI.completions.create({ model: "llama3.2", prompt: "hello" })).choices).toEqual((await directAI.completions.create({ model: "llama3.2", prompt: "hello" })).choices);
    expect((await viaAI.embeddings.create({ model: "nomic-embed-text", input: "hello" })).data).toEqual((await directAI.embeddings.create({ model: "nomic-embed-text", input: "hello" })).data);
  });

  test("models list and retrieve", async () => {
    expect((await viaAI.models.list()).data.map((m) => m.id)).toEqual((await directAI.models.list()).data.map((m) => m.id));
    expect((await viaAI.models.retrieve("llama3.2:latest")).id).toBe("llama3.2:latest");
  });

  test("an unknown model is the client's NotFoundError", async () => {
    const err = await viaAI.chat.completions.create({ model: "no-such-model", messages }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).status).toBe(404);
  });
});

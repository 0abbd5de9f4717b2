// Folding a reply: what the assembler cannot fold ends the fold with an error outcome; it never
// throws out of push(), where it would cut a passthrough caller's stream or crash a job's read.
import { describe, expect, test } from "bun:test";
import { anthropicMessages } from "../../jobs/anthropic-messages.ts";
import { ReplyFolder } from "../../src/engine/reply.ts";

const sse = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

function toolUseStream(partialJson: string): string {
  return [
    sse("message_start", { message: { id: "msg_1", type: "message", role: "assistant", model: "m", content: [], usage: { input_tokens: 1, output_tokens: 0 } } }),
    sse("content_block_start", { index: 0, content_block: { type: "tool_use", id: "call_1", name: "f", input: {} } }),
    sse("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: partialJson } }),
    sse("content_block_stop", { index: 0 }),
    sse("message_delta", { delta: { stop_reason: "tool_use" }, usage: { input_tokens: 1, output_tokens: 3 } }),
    sse("message_stop", {}),
  ].join("");
}

const fold = (body: string) => {
  const folder = new ReplyFolder(anthropicMessages, { status: 200, contentType: "text/event-stream" }, { keep: true });
  folder.push(new TextEncoder().encode(body));
  return folder.end();
};

describe("ReplyFolder", () => {
  test("a tool call's arguments are folded into the message's tool_use input", () => {
    const outcome = fold(toolUseStream('{"city":"Oslo"}'));
    expect(outcome.kind).toBe("done");
    const artifact = JSON.parse((outcome as { artifact: { body: string } }).artifact.body) as { content: { input: unknown }[] };
    expect(artifact.content[0]!.input).toEqual({ city: "Oslo" });
  });

  test("arguments that are not JSON: an error outcome naming the problem, not a throw", () => {
    const outcome = fold(toolUseStream('{"city":'));
    expect(outcome).toEqual({ kind: "error", status: 502, message: expect.stringMatching(/^the target's reply could not be read: /) });
  });
});

// Every kind of work foreman queues, by target endpoint.
import { anthropicMessages } from "./anthropic-messages.ts";
import { chat } from "./chat.ts";
import { embed, embeddings } from "./embed.ts";
import { generate } from "./generate.ts";
import type { JobKind } from "./kind.ts";
import { openaiChat } from "./openai-chat.ts";
import { openaiCompletions } from "./openai-completions.ts";
import { openaiEmbeddings } from "./openai-embeddings.ts";
import { openaiResponses } from "./openai-responses.ts";

const KINDS: Readonly<Record<string, JobKind>> = Object.fromEntries(
  [chat, generate, embed, embeddings, openaiChat, openaiCompletions, openaiEmbeddings, openaiResponses, anthropicMessages].map((k) => [k.endpoint, k]),
);

export const ENDPOINTS = Object.keys(KINDS);

export function kindOf(endpoint: string): JobKind | undefined {
  return KINDS[endpoint];
}

// `foreman run MODEL` on a terminal with no prompt: a chat that keeps the conversation, as
// `ollama run` does — a `>>> ` prompt with line editing and history, `"""` for a message of
// several lines, a bracketed paste of several lines as one message, `/?` for help, `/clear` to
// forget the conversation, `/bye` or Ctrl-D to quit, Ctrl-C to stop an answer (aborted at the
// target) or to clear the line being typed. Lines typed while an answer streams are kept
// (line-reader.ts) and sent after it.
import type { ForemanClient } from "../../clients/ts/index.ts";
import { answer, type ChatOptions } from "./answer.ts";
import type { ChatMessage } from "./chat-stream.ts";
import { describeError, EXIT, Stopped } from "./exit-codes.ts";
import { openLineReader } from "./line-reader.ts";

export const CHAT_HELP = `Available Commands:
  /clear          Clear session context
  /bye            Exit
  /?, /help       Help for a command

Use """ to begin a multi-line message.
Ctrl + c stops the model from responding; Ctrl + d (or /bye) exits.
`;

export type LineAction = { kind: "send"; text: string } | { kind: "say"; text: string } | { kind: "clear" } | { kind: "quit" } | { kind: "none" };

/**
 * Pure: what a line typed at the prompt asks for. `open` is a `"""` message in progress
 * (null when there is none); the result says what to do and what is still open.
 */
export function readPromptLine(line: string, open: string | null): { action: LineAction; open: string | null } {
  const none = { kind: "none" } as const;
  if (open !== null) {
    if (!line.endsWith('"""')) return { action: none, open: `${open}${line}\n` };
    return { action: { kind: "send", text: `${open}${line.slice(0, -3)}` }, open: null };
  }
  if (line.startsWith('"""')) {
    const rest = line.slice(3);
    if (rest.length >= 3 && rest.endsWith('"""')) return { action: { kind: "send", text: rest.slice(0, -3) }, open: null };
    return { action: none, open: `${rest}\n` };
  }
  const word = line.trim().split(/\s+/)[0] ?? "";
  if (word === "/bye" || word === "/exit") return { action: { kind: "quit" }, open: null };
  if (word === "/?" || word === "/help") return { action: { kind: "say", text: CHAT_HELP }, open: null };
  if (word === "/clear") return { action: { kind: "clear" }, open: null };
  if (word.startsWith("/")) return { action: { kind: "say", text: `Unknown command '${word}'. Type /? for help\n` }, open: null };
  if (line.trim() === "") return { action: none, open: null };
  return { action: { kind: "send", text: line }, open: null };
}

export async function interactiveChat(client: ForemanClient, model: string, options: ChatOptions): Promise<number> {
  let messages: ChatMessage[] = [];
  let open: string | null = null;
  /** the lines of a bracketed paste so far: sent, with the line Enter ends, as one message */
  let paste: string | null = null;
  process.stdout.write(`Chatting with ${model} through ${client.baseUrl} (/? for help, /bye to quit)\n`);
  const reader = openLineReader();
  try {
    for (;;) {
      const input = await reader.next(open === null && paste === null ? ">>> " : "... ");
      if (input.kind === "eof") {
        process.stdout.write("\n");
        return EXIT.ok;
      }
      if (input.kind === "interrupt") {
        process.stdout.write(open === null && paste === null && !input.typed ? "\nUse Ctrl + d or /bye to exit.\n" : "\n");
        open = null;
        paste = null;
        continue;
      }
      if (input.pasted) {
        paste = `${paste ?? ""}${input.line}\n`;
        continue;
      }
      const line = paste === null ? input.line : `${paste}${input.line}`;
      paste = null;
      const next = readPromptLine(line, open);
      open = next.open;
      const { action } = next;
      if (action.kind === "quit") return EXIT.ok;
      if (action.kind === "say") process.stdout.write(action.text);
      if (action.kind === "clear") {
        messages = [];
        process.stdout.write("Cleared session context\n");
      }
      if (action.kind !== "send") continue;
      const asked: ChatMessage[] = [...messages, { role: "user", content: action.text }];
      reader.hold();
      try {
        const reply = await answer(client, { ...options.request, model, messages: asked }, options.answer);
        // the conversation keeps only turns that were answered in full
        messages = [...asked, { role: reply.message.role, content: reply.message.content }];
      } catch (err) {
        if (!(err instanceof Stopped)) process.stdout.write(`error: ${describeError(err).message}\n`);
      }
      process.stdout.write("\n");
    }
  } finally {
    reader.close();
  }
}

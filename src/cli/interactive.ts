// `foreman run MODEL` on a terminal with no prompt: a chat that keeps the conversation, as
// `ollama run` does — a `>>> ` prompt with line editing and history, `"""` for a message of
// several lines, `/?` for help, `/clear` to forget the conversation, `/bye` or Ctrl-D to quit,
// Ctrl-C to stop an answer (aborted at the target) or to clear the line being typed.
import { createInterface } from "node:readline";
import { ForemanConnectionError, ForemanHttpError } from "../../clients/ts/errors.ts";
import type { ForemanClient } from "../../clients/ts/index.ts";
import { answer } from "./answer.ts";
import type { ChatMessage } from "./chat-stream.ts";
import { describeError, EXIT, Stopped } from "./exit-codes.ts";

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

/** One line from the terminal, or null on Ctrl-D. Ctrl-C clears the line (and any `"""` message). */
function prompt(text: string, history: string[]): Promise<{ line: string } | { interrupted: { typed: boolean } } | null> {
  // A fresh interface per line: closing it puts the terminal back in cooked mode, so a Ctrl-C
  // during the answer arrives as SIGINT (answer.ts) instead of as a keystroke nobody reads.
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, history, historySize: 1000, removeHistoryDuplicates: true });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (value: { line: string } | { interrupted: { typed: boolean } } | null) => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(value);
    };
    rl.on("line", (line) => settle({ line }));
    rl.on("SIGINT", () => settle({ interrupted: { typed: rl.line !== "" } }));
    rl.on("close", () => settle(null));
    rl.setPrompt(text);
    rl.prompt();
  });
}

/**
 * Before the first prompt, as `ollama run` does: a model the target does not have, or a
 * foreman that cannot be reached, ends the command now rather than after the first message.
 * Any other answer (a sleeping target's 503) does not: the chat's requests will wait in the queue.
 */
async function checkModel(client: ForemanClient, model: string): Promise<void> {
  try {
    await client.request("POST", "/api/show", { headers: { "content-type": "application/json" }, body: JSON.stringify({ model }) });
  } catch (err) {
    if (err instanceof ForemanConnectionError || (err instanceof ForemanHttpError && [401, 403, 404].includes(err.status))) throw err;
  }
}

export async function interactiveChat(client: ForemanClient, model: string): Promise<number> {
  await checkModel(client, model);
  const history: string[] = [];
  let messages: ChatMessage[] = [];
  let open: string | null = null;
  process.stdout.write(`Chatting with ${model} through ${client.baseUrl} (/? for help, /bye to quit)\n`);
  for (;;) {
    const input = await prompt(open === null ? ">>> " : "... ", history);
    if (input === null) {
      process.stdout.write("\n");
      return EXIT.ok;
    }
    if ("interrupted" in input) {
      process.stdout.write(open === null && !input.interrupted.typed ? "\nUse Ctrl + d or /bye to exit.\n" : "\n");
      open = null;
      continue;
    }
    const next = readPromptLine(input.line, open);
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
    try {
      const reply = await answer(client, { model, messages: asked }, { print: true });
      // the conversation keeps only turns that were answered in full
      messages = [...asked, { role: reply.message.role, content: reply.message.content }];
    } catch (err) {
      if (!(err instanceof Stopped)) process.stdout.write(`error: ${describeError(err).message}\n`);
    }
    process.stdout.write("\n");
  }
}

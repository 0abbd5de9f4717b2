// `foreman run MODEL [PROMPT]`: a prompt through foreman's queue (the interactive lane, as a
// passthrough POST /api/chat), the answer streamed as it is generated. The prompt comes from
// the arguments and/or stdin, as `ollama run` takes it; with neither, on a terminal, a chat
// (interactive.ts). `--job` sends it as an async job instead and prints the answer when done.
import { clientOf, show } from "./connection.ts";
import { answer } from "./answer.ts";
import { EXIT, UsageError } from "./exit-codes.ts";
import { interactiveChat } from "./interactive.ts";
import { printAnswer } from "./jobs.ts";
import type { Handler } from "./spec.ts";

/** Pure: the prompt from what was piped in and the arguments, joined as `ollama run` joins them. */
export function promptOf(piped: string | null, words: readonly string[]): string {
  return [...(piped ? [piped] : []), ...words].join(" ");
}

export const run: Handler = async ({ values, positionals: [model, ...words] }) => {
  const client = clientOf(values);
  const piped = process.stdin.isTTY === true ? null : await Bun.stdin.text();
  const prompt = promptOf(piped, words);
  if (values.timeout !== undefined && values.job !== true) throw new UsageError("--timeout goes with --job");
  if (prompt === "") {
    const terminal = piped === null && process.stdout.isTTY === true;
    if (!terminal || values.json === true || values.job === true) throw new UsageError("no prompt: give one as an argument or on stdin (the chat needs a terminal)");
    return interactiveChat(client, model!);
  }
  const messages = [{ role: "user", content: prompt }];
  if (values.job === true) {
    const job = await client.submit({ endpoint: "/api/chat", request: { model, messages } }, { idempotencyKey: globalThis.crypto.randomUUID() });
    if (process.stderr.isTTY) process.stderr.write(`job ${job.id} queued; waiting for it (Ctrl-C stops waiting, not the job)\n`);
    return printAnswer(client, job.id, values);
  }
  const reply = await answer(client, { model: model!, messages }, { print: values.json !== true });
  show(values, reply, () => "");
  return EXIT.ok;
};

// `foreman run MODEL [PROMPT]`: a prompt through foreman's queue (the interactive lane, as a
// passthrough POST /api/chat), the answer streamed as it is generated. The prompt comes from
// the arguments and/or stdin, as `ollama run` takes it; with neither, on a terminal, a chat
// (interactive.ts). `--job` sends it as an async job instead and prints the answer when done.
// A model the target does not have is named once, with a hint, and pulled when asked to.
import { createInterface } from "node:readline/promises";
import { ForemanConnectionError, ForemanHttpError } from "../../clients/ts/errors.ts";
import type { ForemanClient } from "../../clients/ts/index.ts";
import { answer, type ChatOptions } from "./answer.ts";
import { THINK_LEVELS } from "./answer-text.ts";
import { clientOf, connection, getJson, show } from "./connection.ts";
import { EXIT, NotFound, UsageError } from "./exit-codes.ts";
import { interactiveChat } from "./interactive.ts";
import { printAnswer } from "./jobs.ts";
import { pullModels } from "./pull.ts";
import { str, type Handler, type Values } from "./spec.ts";
import { closest } from "./suggest.ts";

/** Pure: the prompt from what was piped in and the arguments, joined as `ollama run` joins them. */
export function promptOf(piped: string | null, words: readonly string[]): string {
  return [...(piped ? [piped] : []), ...words].join(" ");
}

/** A Go duration as Ollama's --keepalive takes it ("5m", "1h30m", "-1s"), or a number of seconds. */
const DURATION = /^-?(\d+(\.\d+)?|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/;

/** Pure: the request fields and the display the flags ask for, as `ollama run`'s flags do. */
export function chatOptions(values: Values, terminal: { stdin: boolean; stdout: boolean }): ChatOptions {
  const request: ChatOptions["request"] = {};
  const format = str(values.format);
  if (format !== undefined) {
    if (format === "json") request.format = "json";
    else {
      try {
        request.format = JSON.parse(format) as unknown;
      } catch {
        throw new UsageError('--format: expected json or a JSON schema (e.g. {"type":"object"})');
      }
      if (typeof request.format !== "object" || request.format === null || Array.isArray(request.format)) throw new UsageError('--format: expected json or a JSON schema (e.g. {"type":"object"})');
    }
  }
  const think = values.think === true ? "true" : str(values.think);
  if (think !== undefined) {
    if (!(THINK_LEVELS as readonly string[]).includes(think)) throw new UsageError(`--think: expected ${THINK_LEVELS.join(", ")}`);
    request.think = think === "true" ? true : think === "false" ? false : think;
  }
  const keepalive = str(values.keepalive);
  if (keepalive !== undefined) {
    if (!DURATION.test(keepalive)) throw new UsageError("--keepalive: expected a duration such as 5m, 1h30m or -1 (forever)");
    // a bare number is seconds, which Ollama reads from a JSON number (its duration strings need a unit)
    request.keep_alive = /^-?[\d.]+$/.test(keepalive) ? Number(keepalive) : keepalive;
  }
  const print = values.json !== true;
  return {
    request,
    answer: {
      print,
      // on a terminal as ollama shows it; into a pipe only when asked for (--think)
      thinking: values.hidethinking !== true && (terminal.stdout || (think !== undefined && think !== "false")),
      wrap: print && terminal.stdin && terminal.stdout && values.nowordwrap !== true,
      verbose: values.verbose === true,
    },
  };
}

/** Pure: what to say of a model the target does not have, with the closest one it has. */
export function missingModel(model: string, installed: readonly string[]): string {
  const names = installed.map((n) => n.replace(/:latest$/, ""));
  const near = closest(model.replace(/:latest$/, ""), names.filter((n) => n !== model));
  return `model "${model}" not found${near ? `; did you mean "${near}"?` : ""} (to get it: foreman pull ${model}, or run with --pull)`;
}

/** Whether the target has the model (POST /api/show); a target that cannot say counts as yes, the request will tell. */
async function hasModel(client: ForemanClient, model: string): Promise<boolean> {
  try {
    await client.request("POST", "/api/show", { headers: { "content-type": "application/json" }, body: JSON.stringify({ model }) });
    return true;
  } catch (err) {
    if (err instanceof ForemanHttpError && err.status === 404) return false;
    if (err instanceof ForemanConnectionError || (err instanceof ForemanHttpError && [401, 403].includes(err.status))) throw err;
    return true;
  }
}

async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Before anything is sent, as `ollama run` does: a model the target lacks is pulled with --pull
 * or when the person says yes on a terminal; otherwise the command ends (exit 3) naming it once.
 */
async function ensureModel(client: ForemanClient, model: string, values: Values, canAsk: boolean): Promise<void> {
  if (await hasModel(client, model)) return;
  const pull = values.pull === true || (canAsk && (await ask(`model "${model}" is not on the target; pull it now? [y/N] `)));
  if (pull) {
    const { baseUrl, token } = connection(values);
    if ((await pullModels(baseUrl, token, [model], process.stderr)) === 0) return;
    throw new NotFound(`model "${model}" could not be pulled`);
  }
  const tags = await getJson<{ models?: { name: string }[] | null }>(client, "/api/tags").catch(() => null);
  throw new NotFound(missingModel(model, (tags?.body.models ?? []).map((m) => m.name)));
}

export const run: Handler = async ({ values, positionals: [model, ...words] }) => {
  const client = clientOf(values);
  const stdinTTY = process.stdin.isTTY === true;
  const piped = stdinTTY ? null : await Bun.stdin.text();
  const prompt = promptOf(piped, words);
  const options = chatOptions(values, { stdin: stdinTTY, stdout: process.stdout.isTTY === true });
  if (values.timeout !== undefined && values.job !== true) throw new UsageError("--timeout goes with --job");
  const chat = prompt === "";
  if (chat && (piped !== null || process.stdout.isTTY !== true || values.json === true || values.job === true)) throw new UsageError("no prompt: give one as an argument or on stdin (the chat needs a terminal)");
  await ensureModel(client, model!, values, stdinTTY && process.stderr.isTTY === true);
  if (chat) return interactiveChat(client, model!, options);
  const messages = [{ role: "user", content: prompt }];
  if (values.job === true) {
    const job = await client.submit({ endpoint: "/api/chat", request: { ...options.request, model, messages } }, { idempotencyKey: globalThis.crypto.randomUUID() });
    if (process.stderr.isTTY) process.stderr.write(`job ${job.id} queued; waiting for it (Ctrl-C stops waiting, not the job)\n`);
    return printAnswer(client, job.id, values);
  }
  const reply = await answer(client, { ...options.request, model: model!, messages }, options.answer);
  show(values, reply, () => "");
  return EXIT.ok;
};

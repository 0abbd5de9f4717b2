// `foreman pull MODEL…`: asks the target to pull each model — through foreman's /api/pull
// passthrough, or straight to --target — and shows the target's progress per model.
import { ForemanConnectionError, httpErrorOf, messageOf } from "../../clients/ts/errors.ts";
import { splitLines } from "../contract/lines.ts";
import { connection } from "./connection.ts";
import { EXIT } from "./exit-codes.ts";
import type { Handler } from "./spec.ts";
import { applyPullLine, initialPull, plainLine, renderBar, succeeded, type PullLine, type PullState } from "./pull-progress.ts";

interface Screen {
  tty: boolean;
  write(text: string): void;
}

/** Streams one pull; resolves with the model's final state. Connection problems throw. */
async function pullOne(baseUrl: string, token: string | undefined, model: string, screen: Screen): Promise<PullState> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/api/pull`, { method: "POST", headers, body: JSON.stringify({ model, stream: true }) });
  } catch (err) {
    throw new ForemanConnectionError(`cannot reach ${baseUrl}: ${messageOf(err)}`, err);
  }
  let state = initialPull(model);
  if (!res.ok || !res.body) {
    const err = await httpErrorOf(res);
    if (err.status === 401 || err.status === 403) throw err;
    return { ...state, error: err.message };
  }
  const draw = (next: PullState) => {
    if (screen.tty) screen.write(`\r\x1b[2K${renderBar(next)}`);
    else {
      const line = plainLine(state, next);
      if (line) screen.write(`${line}\n`);
    }
    state = next;
  };
  draw(state);
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for await (const chunk of res.body) {
      const split = splitLines(rest + decoder.decode(chunk, { stream: true }));
      rest = split.rest;
      for (const line of split.items) draw(applyPullLine(state, JSON.parse(line) as PullLine));
    }
  } catch (err) {
    if (err instanceof SyntaxError) draw({ ...state, error: `the target sent something that is not JSON: ${err.message}` });
    else throw new ForemanConnectionError(`the progress stream from ${baseUrl} broke: ${messageOf(err)}`, err);
  }
  if (!succeeded(state) && state.error === undefined) draw({ ...state, error: "the progress stream ended before success" });
  if (screen.tty) screen.write("\n");
  return state;
}

export const pull: Handler = async ({ values, positionals }) => {
  const screen: Screen = { tty: process.stdout.isTTY === true, write: (t) => process.stdout.write(t) };
  const { baseUrl, token } = typeof values.target === "string" ? { baseUrl: values.target.replace(/\/+$/, ""), token: typeof values.token === "string" ? values.token : undefined } : connection(values);
  let failed = 0;
  for (const model of positionals) {
    const state = await pullOne(baseUrl, token, model, screen);
    if (!succeeded(state)) {
      failed++;
      console.error(`foreman pull: ${model}: ${state.error}`);
    }
  }
  return failed ? EXIT.jobEnded : EXIT.ok;
};

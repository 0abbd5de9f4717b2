// `foreman pull MODEL…`: asks the target to pull each model — through foreman's /api/pull
// passthrough, or straight to --target — and shows the target's progress: on a terminal one
// bar per model, redrawn in place and lined up with the others; otherwise a line per step.
// A model that fails is reported once, on stderr, with the target's message.
import { ForemanConnectionError, ForemanUnreachableError, httpErrorOf, messageOf } from "../../clients/ts/errors.ts";
import { connection } from "./connection.ts";
import { EXIT } from "./exit-codes.ts";
import { ndjsonObjects } from "./ndjson.ts";
import { applyPullLine, initialPull, plainLine, renderBar, succeeded, type PullLine, type PullState } from "./pull-progress.ts";
import { str, type Handler } from "./spec.ts";

/** How progress reaches the person: redrawn bars on a terminal, lines otherwise. */
interface Screen {
  draw(prev: PullState, next: PullState): void;
  /** the model's pull is over: its bar stays as it ended */
  done(): void;
}

function terminalScreen(nameWidth: number, out: NodeJS.WriteStream): Screen {
  let last = 0;
  let shown: PullState | undefined;
  const paint = (state: PullState) => out.write(`\r${renderBar(state, { columns: out.columns || 80, nameWidth })}\x1b[K`);
  // a resized terminal gets the bar again at its new width
  const onResize = () => shown && paint(shown);
  out.on("resize", onResize);
  return {
    draw(_prev, next) {
      shown = next;
      // at most ten redraws a second, as Ollama's progress does; the last state is always drawn
      const now = Date.now();
      if (now - last < 100 && !succeeded(next) && next.error === undefined) return;
      last = now;
      paint(next);
    },
    done() {
      if (shown) paint(shown);
      shown = undefined;
      out.write("\n");
    },
  };
}

const plainScreen = (out: NodeJS.WriteStream): Screen => ({
  draw(prev, next) {
    const line = plainLine(prev, next);
    if (line) out.write(`${line}\n`);
  },
  done() {},
});

/** Streams one pull; resolves with the model's final state. Connection problems and refused tokens throw. */
async function pullOne(baseUrl: string, token: string | undefined, model: string, screen: Screen): Promise<PullState> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/api/pull`, { method: "POST", headers, body: JSON.stringify({ model, stream: true }) });
  } catch (err) {
    throw new ForemanUnreachableError(baseUrl, err);
  }
  let state = initialPull(model);
  if (!res.ok || !res.body) {
    const err = await httpErrorOf(res);
    if (err.status === 401 || err.status === 403) throw err;
    return { ...state, error: err.message };
  }
  const draw = (next: PullState) => {
    screen.draw(state, next);
    state = next;
  };
  draw(state);
  try {
    for await (const line of ndjsonObjects(res.body, baseUrl)) draw(applyPullLine(state, line as PullLine, Date.now()));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    draw({ ...state, error: err.message });
  } finally {
    screen.done();
  }
  if (!succeeded(state) && state.error === undefined) return { ...state, error: "the progress stream ended before success" };
  return state;
}

/**
 * Pulls each model in turn, its progress on `out` (stdout for `pull`; stderr when `run` pulls,
 * so the answer alone is on stdout); says on stderr why each failed one failed, and returns how many did.
 */
export async function pullModels(baseUrl: string, token: string | undefined, models: readonly string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const screen = out.isTTY === true ? terminalScreen(Math.max(...models.map((m) => m.length)), out) : plainScreen(out);
  let failed = 0;
  for (const model of models) {
    const state = await pullOne(baseUrl, token, model, screen);
    if (succeeded(state)) continue;
    failed++;
    console.error(`foreman pull: ${model}: ${state.error}`);
  }
  return failed;
}

export const pull: Handler = async ({ values, positionals }) => {
  const target = str(values.target);
  const { baseUrl, token } = target ? { baseUrl: target.replace(/\/+$/, ""), token: str(values.token) } : connection(values);
  return (await pullModels(baseUrl, token, positionals)) ? EXIT.jobEnded : EXIT.ok;
};

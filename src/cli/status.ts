// `foreman status [--watch]`: GET /status as one screen (status-screen.ts), or as JSON. With
// --watch on a terminal the screen is redrawn in place on the alternate screen until Ctrl-C
// (exit 0), and the last frame is left on the normal screen; off a terminal, frame after frame.
import type { ForemanClient } from "../../clients/ts/index.ts";
import { sleep } from "../../clients/ts/retry.ts";
import type { Status } from "../../clients/ts/types.ts";
import { clientOf, getJson } from "./connection.ts";
import { describeError, EXIT } from "./exit-codes.ts";
import { seconds, type Handler, type Values } from "./spec.ts";
import { statusScreen } from "./status-screen.ts";

const clock = (ms: number) => new Date(ms).toLocaleTimeString("en-GB", { hour12: false });

async function frame(client: ForemanClient, values: Values, width: number | undefined, signal?: AbortSignal): Promise<string> {
  const { body } = await getJson<Status>(client, "/status", signal);
  if (values.json === true) return `${JSON.stringify(body, null, values.watch ? 0 : 2)}\n`;
  return statusScreen(body, { now: Date.now(), url: client.baseUrl, clock, width });
}

/** Redraws until Ctrl-C; a foreman that stops answering is shown on the screen, not fatal. */
async function watch(client: ForemanClient, values: Values, intervalMs: number): Promise<number> {
  const tty = process.stdout.isTTY === true && values.json !== true;
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  if (tty) process.stdout.write("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
  let last = "";
  while (!stop.signal.aborted) {
    const width = tty ? process.stdout.columns : undefined;
    try {
      last = await frame(client, values, width, stop.signal);
    } catch (err) {
      if (stop.signal.aborted) break;
      last = `${describeError(err).message}\n(retrying every ${intervalMs / 1000} s; Ctrl-C to stop)\n`;
    }
    if (!tty) process.stdout.write(values.json === true ? last : `${last}\n`);
    // home, each line cleared to its end, then everything below: a redraw that never scrolls
    else process.stdout.write(`\x1b[H${last.trimEnd().split("\n").join("\x1b[K\n")}\x1b[K\n\x1b[J`);
    await sleep(intervalMs, stop.signal).catch(() => {});
  }
  if (tty) process.stdout.write(`\x1b[?25h\x1b[?1049l${last}`);
  return EXIT.ok;
}

export const status: Handler = async ({ values }) => {
  const client = clientOf(values);
  if (values.watch === true) return watch(client, values, (seconds("--interval", values.interval) ?? 1) * 1000 || 1000);
  process.stdout.write(await frame(client, values, undefined));
  return EXIT.ok;
};

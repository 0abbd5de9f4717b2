// `foreman [serve]`: runs the daemon until SIGTERM or SIGINT. The one command that imports the
// composition root; its flags are the settings table of config.ts.
import { loadConfig } from "../config.ts";
import { startForeman, type Foreman } from "../server.ts";
import type { Handler } from "./spec.ts";

export const serve: Handler = async ({ args }) => {
  const result = loadConfig(args);
  if (!result.ok) {
    console.error(`foreman: ${result.error}`);
    return 2;
  }
  // a signal that arrives while foreman starts stops it as soon as it is up
  const { promise, resolve } = Promise.withResolvers<number>();
  let foreman: Foreman | undefined;
  let signalled: string | undefined;
  const shutdown = (signal: string) => {
    if (!foreman) {
      signalled ??= signal;
      return;
    }
    foreman.services.log.info("shutting down", { signal });
    foreman.stop().then(() => resolve(0), () => resolve(1));
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  try {
    foreman = await startForeman(result.config, { notice: result.notice });
  } catch (err) {
    console.error(`foreman: ${(err as Error).message}`);
    return 1;
  }
  if (signalled) shutdown(signalled);
  return promise;
};

// `foreman sim`: the simulator's flags (described in src/sim/cli.ts) checked, then it runs.
import { serveSimulator, simOptions } from "../sim/cli.ts";
import { UsageError } from "./exit-codes.ts";
import type { Handler } from "./spec.ts";

export const sim: Handler = async ({ values }) => {
  const parsed = simOptions(values);
  if ("error" in parsed) throw new UsageError(parsed.error);
  return serveSimulator(parsed.options);
};

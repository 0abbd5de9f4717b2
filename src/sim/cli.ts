// `foreman sim`: a standalone simulator for demos and manual testing; prints
// its URL and runs until SIGINT/SIGTERM.

import { parseOrigins } from "../http/origin-policy.ts";
import { startSimulator } from "./index.ts";
import type { SimOptions } from "./types.ts";

const USAGE = `usage: foreman sim [options]
Starts an Ollama simulator (default port 11434) and prints its URL.
  --port N          port to listen on (default 11434; 0 picks a free one)
  --host H          address to listen on (default 127.0.0.1; the Host allow-list applies on loopback only)
  --token-delay MS  time between generated tokens (default 20)
  --load-ms MS      time a model takes to load (default 200)
  --max-loaded N    models resident at once, OLLAMA_MAX_LOADED_MODELS (default 3)
  --origins LIST    extra allowed CORS origins, comma-separated, like OLLAMA_ORIGINS (* allows all)`;

type Parsed = { help: true } | { help: false; options: SimOptions } | { error: string };

const NUMERIC: Record<string, "port" | "tokenDelayMs" | "loadMs" | "maxLoaded"> = {
  "--port": "port",
  "--token-delay": "tokenDelayMs",
  "--load-ms": "loadMs",
  "--max-loaded": "maxLoaded",
};

/** Parses `foreman sim` flags (`--flag value` or `--flag=value`). Pure. */
export function parseSimArgs(args: string[]): Parsed {
  const options: SimOptions = { port: 11434 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--help" || arg === "-h") return { help: true };
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) return { error: `foreman sim: flag ${flag} needs a value` };
    if (flag === "--host") {
      options.hostname = value;
      continue;
    }
    if (flag === "--origins") {
      const parsed = parseOrigins(value);
      if (!parsed.ok) return { error: `foreman sim: --origins: ${parsed.error}` };
      options.origins = value;
      continue;
    }
    const key = NUMERIC[flag];
    if (!key) return { error: `foreman sim: unknown flag ${flag} (try --help)` };
    const n = Number(value);
    if (!/^\d+$/.test(value) || (key === "port" && n > 65535) || (key === "maxLoaded" && n < 1)) {
      return { error: `foreman sim: invalid value ${JSON.stringify(value)} for ${flag}` };
    }
    options[key] = n;
  }
  return { help: false, options };
}

export async function simCommand(args: string[]): Promise<number> {
  const parsed = parseSimArgs(args);
  if ("error" in parsed) {
    console.error(parsed.error);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  let sim;
  try {
    sim = await startSimulator(parsed.options);
  } catch (err) {
    console.error(`foreman sim: cannot listen: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  console.log(`ollama simulator listening on ${sim.url}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await sim.stop();
  return 0;
}

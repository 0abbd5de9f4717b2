// `foreman sim`: a standalone simulator for demos and manual testing; prints its URL and runs
// until SIGINT/SIGTERM. Its flags and its fault switches are described here, as data the
// CLI's command table shows in `foreman sim --help` (the simulator imports nothing of the CLI,
// and the table does not load the simulator until `foreman sim` runs).
import { parseOrigins } from "../ollama/origin-policy.ts";
import type { SimFaults, SimOptions } from "./types.ts";

/** The numeric flags and the option each sets. */
const NUMERIC = {
  port: { key: "port", value: "N", help: "port to listen on (default 11434; 0 = any free port)" },
  "token-delay": { key: "tokenDelayMs", value: "MS", help: "delay between generated tokens (default 20)" },
  "load-ms": { key: "loadMs", value: "MS", help: "time to load a model that is not resident (default 200)" },
  "max-loaded": { key: "maxLoaded", value: "N", help: "models resident at once, OLLAMA_MAX_LOADED_MODELS (default 3)" },
} as const satisfies Record<string, { key: keyof SimOptions; value: string; help: string }>;

export const SIM_FLAGS = [
  ...Object.entries(NUMERIC).map(([name, f]) => ({ name, value: f.value, help: f.help })),
  { name: "host", value: "H", help: "address to listen on (default 127.0.0.1; the Host allow-list applies on loopback only)" },
  { name: "origins", value: "LIST", help: "extra allowed CORS origins, comma-separated, like OLLAMA_ORIGINS (* allows all)" },
];

/** Every fault switch, with what it does; the type makes a new switch without help a compile error. */
const FAULTS: { readonly [K in keyof SimFaults]: string } & { wakeAfterMs: string } = {
  asleep: "true: the port closes, as when the Mac sleeps (connections are refused)",
  wakeAfterMs: "with asleep: wake up again after this many milliseconds",
  hung: "true: requests are accepted and never answered",
  firstByteDelayMs: "milliseconds before the first byte of every inference reply",
  errorBeforeFirstByte: '{"status":500,"message":"…"}: inference fails with this status',
  errorMidStream: '{"afterChunks":3,"message":"…"}: streams break with an error line',
  busy: "true: inference answers 503 (Ollama's queue is full)",
  failLoad: '["model", …]: loading these models fails',
  dropWhen: '"text": a request whose body holds it is dropped before the first byte',
  endless: "true: inference replies never end, as a model stuck in a loop (their tokens repeat until the caller goes away)",
};

export const SIM_FOOTER = `Fault switches (while it runs: POST /_sim/faults with a JSON object of these; GET /_sim/state
shows them and the counters; POST /_sim/reset zeroes the counters):
${Object.entries(FAULTS)
  .map(([name, help]) => `  ${name.padEnd(22)}${help}`)
  .join("\n")}

Example: curl -d '{"asleep":true,"wakeAfterMs":5000}' http://127.0.0.1:11434/_sim/faults`;

/** Pure: the flags' values as simulator options, or the one-line problem with them. */
export function simOptions(values: Readonly<Record<string, unknown>>): { options: SimOptions } | { error: string } {
  const options: SimOptions = { port: 11434 };
  if (typeof values.host === "string") options.hostname = values.host;
  if (typeof values.origins === "string") {
    const parsed = parseOrigins(values.origins);
    if (!parsed.ok) return { error: `--origins: ${parsed.error}` };
    options.origins = values.origins;
  }
  for (const [flag, { key }] of Object.entries(NUMERIC)) {
    const value = values[flag];
    if (typeof value !== "string") continue;
    const n = Number(value);
    if (!/^\d+$/.test(value) || (key === "port" && n > 65535) || (key === "maxLoaded" && n < 1)) return { error: `invalid value ${JSON.stringify(value)} for --${flag}` };
    options[key] = n;
  }
  return { options };
}

/** Runs the simulator until SIGINT or SIGTERM. */
export async function serveSimulator(options: SimOptions): Promise<number> {
  const { startSimulator } = await import("./index.ts");
  let sim;
  try {
    sim = await startSimulator(options);
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

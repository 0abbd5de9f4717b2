// `foreman jobs submit|get|ls|cancel|wait|artifact`: the job API from a shell, through the
// TypeScript client. Tables for people, `--json` for scripts, exit codes from exit-codes.ts.
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ForemanClient } from "../../clients/ts/index.ts";
import type { Job, ListFilter } from "../../clients/ts/types.ts";
import { MAX_WAIT_SECONDS } from "../contract/prefer.ts";
import { JOB_STATES, type JobStatus } from "../contract/states.ts";
import { connection, connectionOptions, CONNECTION_HELP } from "./connection.ts";
import { describeError, EXIT, EXIT_HELP, exitCodeOfJob, UsageError } from "./exit-codes.ts";
import { artifactText, jobDetails, jobRows } from "./format.ts";
import { buildSubmission } from "./submission.ts";

export const JOBS_HELP = `Usage: foreman jobs <command> [options]

Commands:
  submit [--endpoint E] [--model M] [--prompt TEXT] [--message TEXT]... [--request JSON|@FILE]
         [--webhook URL] [--priority N] [--metadata JSON] [--idempotency-key K] [--wait] [--timeout S]
                       queue a job (endpoint default /api/chat); --wait waits for it to end
  get ID [--wait S]    show a job; --wait long-polls up to S seconds (≤ ${MAX_WAIT_SECONDS}) for it to end
  ls [--status S] [--model M] [--limit N] [--cursor C]
                       list jobs, newest first
  cancel ID            cancel a queued or running job
  wait ID [--timeout S]
                       wait until the job ends (no limit unless --timeout)
  artifact ID          print the result of a done job (the reply's text; --json for all of it)

Options for every command:
  --json         print JSON instead of a table
${CONNECTION_HELP}

${EXIT_HELP}
`;

type Values = Record<string, string | boolean | string[] | undefined>;
type Io = { out(text: string): void };

interface Command {
  options: ParseArgsConfig["options"];
  /** Positional arguments the command needs (a job id, or nothing). */
  needsId: boolean;
  run(client: ForemanClient, values: Values, id: string, io: Io): Promise<number>;
}

const str = (v: Values[string]) => (typeof v === "string" ? v : undefined);

function seconds(flag: string, v: Values[string], max = Infinity): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s) || n > max) throw new UsageError(`${flag}: expected seconds${max < Infinity ? ` up to ${max}` : ""}`);
  return n;
}

function show(io: Io, json: boolean, value: unknown, human: () => string): void {
  io.out(json ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** Waits for the job to end, prints it, and turns the outcome into the exit code. */
async function waitAndShow(client: ForemanClient, job: Job, values: Values, io: Io): Promise<number> {
  const timeout = seconds("--timeout", values.timeout);
  const ended = await client.wait(job.id, timeout === undefined ? {} : { timeout: timeout * 1000 });
  show(io, values.json === true, ended, () => jobDetails(ended));
  return exitCodeOfJob(ended);
}

const COMMANDS: Record<string, Command> = {
  submit: {
    needsId: false,
    options: {
      endpoint: { type: "string" },
      model: { type: "string" },
      prompt: { type: "string" },
      message: { type: "string", multiple: true },
      request: { type: "string" },
      webhook: { type: "string" },
      priority: { type: "string" },
      metadata: { type: "string" },
      "idempotency-key": { type: "string" },
      wait: { type: "boolean" },
      timeout: { type: "string" },
    },
    async run(client, values, _id, io) {
      const submission = buildSubmission(values as Parameters<typeof buildSubmission>[0], (path) => readFileSync(path, "utf8"));
      const key = str(values["idempotency-key"]) ?? globalThis.crypto.randomUUID();
      const job = await client.submit(submission, { idempotencyKey: key });
      if (values.wait) return waitAndShow(client, job, values, io);
      show(io, values.json === true, job, () => jobDetails(job));
      return EXIT.ok;
    },
  },
  get: {
    needsId: true,
    options: { wait: { type: "string" } },
    async run(client, values, id, io) {
      const wait = seconds("--wait", values.wait, MAX_WAIT_SECONDS);
      const job = await client.get(id, wait === undefined ? {} : { wait: Math.ceil(wait) });
      show(io, values.json === true, job, () => jobDetails(job));
      return EXIT.ok;
    },
  },
  ls: {
    needsId: false,
    options: { status: { type: "string" }, model: { type: "string" }, limit: { type: "string" }, cursor: { type: "string" } },
    async run(client, values, _id, io) {
      const status = str(values.status);
      if (status !== undefined && !(JOB_STATES as readonly string[]).includes(status)) throw new UsageError(`--status: expected one of ${JOB_STATES.join(", ")}`);
      const limit = str(values.limit);
      if (limit !== undefined && !/^\d+$/.test(limit)) throw new UsageError("--limit: expected a positive integer");
      const filter: ListFilter = { status: status as JobStatus | undefined, model: str(values.model), limit: limit === undefined ? undefined : Number(limit), cursor: str(values.cursor) };
      const page = await client.list(filter);
      show(io, values.json === true, page, () => jobRows(page.jobs) + (page.next_cursor ? `more: --cursor ${page.next_cursor}\n` : ""));
      return EXIT.ok;
    },
  },
  cancel: {
    needsId: true,
    options: {},
    async run(client, values, id, io) {
      const job = await client.cancel(id);
      show(io, values.json === true, job, () => jobDetails(job));
      return EXIT.ok;
    },
  },
  wait: {
    needsId: true,
    options: { timeout: { type: "string" } },
    async run(client, values, id, io) {
      return waitAndShow(client, await client.get(id), values, io);
    },
  },
  artifact: {
    needsId: true,
    options: {},
    async run(client, values, id, io) {
      const artifact = await client.artifact(id);
      show(io, values.json === true, artifact, () => artifactText(artifact));
      return EXIT.ok;
    },
  },
};

export async function jobsCommand(args: string[], io: Io = { out: (t) => process.stdout.write(t) }): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(JOBS_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown jobs command "${name}"`);
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(JOBS_HELP);
      return EXIT.ok;
    }
    const { values, positionals } = parseArgs({ args: rest, options: { ...command.options, ...connectionOptions, json: { type: "boolean" } }, allowPositionals: true, strict: true });
    if (positionals.length !== (command.needsId ? 1 : 0)) throw new UsageError(command.needsId ? `jobs ${name} takes one job id` : `jobs ${name} takes no arguments`);
    const client = new ForemanClient(connection({ url: str(values.url), token: str(values.token) }));
    return await command.run(client, values, positionals[0] ?? "", io);
  } catch (err) {
    const { code, message } = describeError(err);
    console.error(`foreman jobs${command ? ` ${name}` : ""}: ${message}`);
    return code;
  }
}

// The command table: every subcommand of the foreman executable with its arguments, flags
// and help, in one place. Usage texts, flag parsing (spec.ts) and shell completions
// (completion.ts) are derived from it; handlers are loaded only when their command runs.
import type { TSchema } from "@sinclair/typebox";
import { ENDPOINTS } from "../../jobs/index.ts";
import { options as settings } from "../config.ts";
import { LANE_NAMES } from "../contract/lanes.ts";
import { JOB_STATES } from "../contract/states.ts";
import { MAX_PAGE } from "../contract/page.ts";
import { USAGE_DIMENSIONS } from "../contract/usage.ts";
import { MAX_WAIT_SECONDS } from "../contract/prefer.ts";
import { VERSION, VERSION_LINE } from "../ops/version.ts";
import { SIM_FLAGS, SIM_FOOTER } from "../sim/cli.ts";
import { completionScript, SHELLS, type Shell } from "./completion.ts";
import { CONNECTION_FLAGS, JSON_FLAG } from "./connection.ts";
import { BATCH_EXIT_HELP, EXIT_HELP, UsageError } from "./exit-codes.ts";
import { THINK_LEVELS } from "./answer-text.ts";
import { resolve, usage, type CommandSpec, type FlagSpec, type Handler } from "./spec.ts";

/** The literals of a union schema (log levels, formats), for the placeholder and completion. */
const choices = (schema: TSchema): string[] | undefined => (schema.anyOf as TSchema[] | undefined)?.map((s) => String(s.const));

/** serve's flags are the settings: each also an environment variable, flags win. */
const SERVE_FLAGS: FlagSpec[] = Object.values(settings).map((o) => {
  const values = choices(o.schema);
  return {
    name: o.flag.slice(2),
    value: values ? values.join("|") : o.schema.type === "integer" ? "N" : "VALUE",
    help: `${o.help}\n$${o.env}, default ${o.default === undefined ? "unset" : String(o.default) || "empty"}`,
    ...(values ? { complete: values } : o.flag === "--db" ? { complete: "file" as const } : {}),
  };
});

const CLIENT_FLAGS = [JSON_FLAG, ...CONNECTION_FLAGS];

const MODEL_EXITS = "Exit codes:\n  0  ok\n  2  usage error\n  3  HTTP error (503: the target is not answering), or foreman could not be reached";

const SERVE_ABOUT = "Runs the daemon: foreman in front of one Ollama server (the target). Every option is also an\nenvironment variable; flags win.";

const help: Handler = async ({ positionals, root }) => {
  const { spec, path, rest } = resolve(root, positionals);
  if (rest.length) throw new UsageError(`no command "${positionals.join(" ")}"`);
  process.stdout.write(usage(spec, path));
  return 0;
};

const completion: Handler = async ({ positionals: [shell], root }) => {
  if (!(SHELLS as readonly string[]).includes(shell!)) throw new UsageError(`no completion for "${shell}": expected ${SHELLS.join(", ")}`);
  process.stdout.write(completionScript(shell as Shell, root));
  return 0;
};

/** `foreman` with no command, or only flags, serves; `--version` prints the version. */
const root: Handler = async (invocation) => {
  if (invocation.values.version === true) {
    console.log(VERSION_LINE);
    return 0;
  }
  return (await import("./serve.ts")).serve(invocation);
};

/** A `jobs` subcommand: its flags, then the client's; the job exit codes unless it says otherwise. */
const jobCommand = (name: keyof typeof import("./jobs.ts"), spec: Omit<CommandSpec, "name" | "run">): CommandSpec => ({
  name,
  footer: EXIT_HELP,
  ...spec,
  flags: [...(spec.flags ?? []), ...CLIENT_FLAGS],
  run: async () => (await import("./jobs.ts"))[name] as Handler,
});

/** A `batch` subcommand: its flags, then the client's; the batch exit codes. */
const batchCommand = (name: keyof typeof import("./batches.ts"), spec: Omit<CommandSpec, "name" | "run">): CommandSpec => ({
  name,
  footer: BATCH_EXIT_HELP,
  ...spec,
  flags: [...(spec.flags ?? []), ...CLIENT_FLAGS],
  run: async () => (await import("./batches.ts"))[name] as Handler,
});

/** `models` and `ps`: a listing of the target's, from `path` through foreman, as ollama shows it. */
const targetListing = (name: "models" | "ps", summary: string, path: string, about: string, aliases?: readonly string[]): CommandSpec => ({
  name,
  ...(aliases ? { aliases } : {}),
  summary,
  args: "[PREFIX]",
  arity: [0, 1],
  about,
  flags: [{ ...JSON_FLAG, help: `print the target's ${path} reply` }, ...CONNECTION_FLAGS],
  footer: MODEL_EXITS,
  run: async () => (await import("./models.ts"))[name],
});

export const COMMANDS: CommandSpec = {
  name: "foreman",
  summary: `foreman ${VERSION} — a queued, observable Ollama/OpenAI endpoint in front of one Ollama server`,
  about: `foreman ${VERSION} — a queued, observable Ollama/OpenAI endpoint in front of one Ollama server.\nWithout a command it serves (see \`foreman serve --help\`); the options below are serve's.`,
  flags: [...SERVE_FLAGS, { name: "version", short: "v", help: "print the version and exit" }],
  run: async () => root,
  commands: [
    { name: "serve", summary: "run the daemon (the default command)", about: SERVE_ABOUT, flags: SERVE_FLAGS, run: async () => (await import("./serve.ts")).serve },
    {
      name: "run",
      summary: "chat with a model through foreman's queue",
      args: "MODEL [PROMPT...]",
      arity: [1, Infinity],
      about: `Sends the prompt through foreman's queue (the interactive lane: POST /api/chat) and streams the
answer as it is generated. The prompt is the arguments, after anything piped on stdin. With
neither, on a terminal: a chat that keeps the conversation (/? for help, /bye or Ctrl-D quits,
Ctrl-C stops an answer and aborts it at the target; paste several lines, or wrap them in """, to
send them as one message). A model the target does not have can be pulled first (--pull).`,
      flags: [
        { name: "job", help: "send it as an async job (POST /jobs) and print the answer when it is done" },
        { name: "timeout", value: "S", help: "with --job: give up waiting after S seconds (exit 4; the job goes on)" },
        { name: "pull", help: "pull the model first if the target does not have it (on a terminal you are asked)" },
        { name: "verbose", help: "after the answer, print Ollama's timings: durations, token counts, eval rates" },
        { name: "format", value: "json|SCHEMA", help: "ask the model to answer in JSON (or to a JSON schema), as ollama run --format does" },
        { name: "think", value: "LEVEL", optional: true, help: `thinking: --think, or --think=${THINK_LEVELS.slice(1).join("|")}` },
        { name: "hidethinking", help: "do not show a thinking model's thinking" },
        { name: "keepalive", value: "DURATION", help: "how long the model stays loaded after the answer (5m, 1h, -1: forever)" },
        { name: "nowordwrap", help: "do not wrap words at the terminal's edge" },
        {
          ...JSON_FLAG,
          help: "print foreman's final reply as JSON (the shape Ollama gives without streaming) instead of the text;\n--format json instead asks the model to write JSON, and prints the text it writes",
        },
        ...CONNECTION_FLAGS,
      ],
      footer: `Examples:
  foreman run llama3.2                                   # chat
  foreman run llama3.2 "Why is the sky blue?"
  git diff | foreman run qwen2.5-coder "Write a commit message for this diff"
  foreman run llama3.2 --job "Summarise War and Peace"   # as a durable job
  foreman run qwen3 --think=low --verbose "What is 17 * 23?"

Exit codes:
  0  ok: the answer came in full (the chat: it ended with /bye or Ctrl-D)
  1  the answer failed, or was stopped with Ctrl-C; with --job: the job failed or was canceled
  2  usage error
  3  HTTP error from foreman (a model the target does not have: not pulled), or foreman could not be reached
  4  with --job --timeout: timed out waiting (the job is still there; it was not canceled)`,
      run: async () => (await import("./run.ts")).run,
    },
    {
      name: "status",
      summary: "the target, the worker and the queue at a glance",
      about: `One screen from GET /status: the target (up or down, since when), the models resident on it, what
the worker is doing and for how long, the queue by model with its oldest wait, recent swaps.`,
      flags: [
        { name: "watch", short: "w", help: "redraw it in place every interval until Ctrl-C" },
        { name: "interval", value: "S", help: "with --watch: seconds between refreshes (default 1)" },
        { ...JSON_FLAG, help: "print /status as JSON (with --watch: one line per refresh)" },
        ...CONNECTION_FLAGS,
      ],
      footer: "Exit codes:\n  0  ok (--watch: stopped with Ctrl-C)\n  2  usage error\n  3  HTTP error from foreman, or foreman could not be reached",
      run: async () => (await import("./status.ts")).status,
    },
    targetListing("models", "the target's models (like ollama list)", "/api/tags", "The target's models, from GET /api/tags through foreman, as `ollama list` shows them: NAME, ID,\nSIZE, MODIFIED. A PREFIX keeps the models whose name starts with it.", ["list", "ls"]),
    targetListing("ps", "the models resident on the target, and until when (like ollama ps)", "/api/ps", "The models loaded on the target, from GET /api/ps through foreman, as `ollama ps` shows them:\nNAME, ID, SIZE, PROCESSOR, CONTEXT, UNTIL."),
    {
      name: "show",
      summary: "a model's details: architecture, parameters, context, capabilities (like ollama show)",
      args: "MODEL",
      arity: [1, 1],
      about: "The model's details from POST /api/show through foreman, in the sections `ollama show` prints.",
      flags: [{ ...JSON_FLAG, help: "print the target's /api/show reply" }, ...CONNECTION_FLAGS],
      footer: MODEL_EXITS,
      run: async () => (await import("./models.ts")).show,
    },
    {
      name: "stop",
      summary: "unload models from the target now (like ollama stop)",
      args: "MODEL...",
      arity: [1, Infinity],
      about: "Unloads each model from the target at once, as `ollama stop` does (a generate with keep_alive 0,\nwhich foreman sends straight to the target, beside whatever the worker runs).",
      flags: CONNECTION_FLAGS,
      footer: MODEL_EXITS,
      run: async () => (await import("./models.ts")).stop,
    },
    {
      name: "rm",
      summary: "delete models from the target (like ollama rm)",
      args: "MODEL...",
      arity: [1, Infinity],
      about: "Deletes each model from the target (DELETE /api/delete through foreman), unloading it first, as\n`ollama rm` does.",
      flags: CONNECTION_FLAGS,
      footer: MODEL_EXITS,
      run: async () => (await import("./models.ts")).rm,
    },
    {
      name: "jobs",
      summary: "submit, list, watch, wait for and cancel async jobs",
      about: "The async job API (POST /jobs and friends) from a shell.",
      footer: EXIT_HELP,
      commands: [
        jobCommand("submit", {
          summary: "queue a job; --wait waits for it and prints the answer",
          about:
            "Queues a job (endpoint default /api/chat) and prints it. With --wait, waits until it ends and prints\nthe answer's text (the artifact with --json); a job that failed or was canceled exits 1.",
          flags: [
            { name: "endpoint", value: "E", help: "the target endpoint (default /api/chat)", complete: ENDPOINTS },
            { name: "model", value: "M", help: "the model (or the request's own)" },
            { name: "prompt", value: "TEXT", help: "the prompt (a user message on chat endpoints)" },
            { name: "message", value: "TEXT", multiple: true, help: "a user message (chat endpoints; repeatable)" },
            { name: "request", value: "JSON|@FILE", help: "the target's request body, or a file holding it", complete: "file" },
            { name: "webhook", value: "URL", help: "where to POST the job's state changes" },
            { name: "priority", value: "N", help: "higher runs first within a model" },
            { name: "no-preempt", help: "never stopped for a waiting passthrough request (submitted with preemptible false)" },
            { name: "metadata", value: "JSON", help: "a JSON object kept with the job" },
            { name: "run-after", value: "WHEN", help: "do not start before: a duration from now (2h) or an RFC 3339 time" },
            { name: "start-by", value: "WHEN", help: "not started by then, the job never starts (canceled, expired): a duration from now (9h) or an RFC 3339 time" },
            { name: "max-run", value: "D", help: "longest one attempt may run once the target answers (10m; 0s: no cap); then the job fails" },
            { name: "idempotency-key", value: "K", help: "the same key and body return the same job" },
            { name: "wait", help: "wait for the job to end and print its answer" },
            { name: "timeout", value: "S", help: "with --wait: give up waiting after S seconds (exit 4; the job goes on)" },
          ],
        }),
        jobCommand("get", {
          aliases: ["show"],
          summary: "show a job",
          args: "ID",
          arity: [1, 1],
          flags: [{ name: "wait", value: "S", help: `long-poll up to S seconds (≤ ${MAX_WAIT_SECONDS}) for the job to end` }],
        }),
        jobCommand("ls", {
          summary: "list jobs (or passthrough requests: --lane interactive), newest first, with age and queue position",
          flags: [
            { name: "lane", value: "L", help: "async (default): jobs; interactive: passthrough requests, the waiting ones with their position and request id", complete: LANE_NAMES },
            { name: "status", value: "S", help: `only jobs in this state (${JOB_STATES.join(", ")})`, complete: JOB_STATES },
            { name: "model", value: "M", help: "only jobs for this model" },
            { name: "batch", value: "ID", help: "only the lines of this batch (foreman batch ls), one job each" },
            { name: "limit", value: "N", help: `jobs per page (default 50, at most ${MAX_PAGE})` },
            { name: "cursor", value: "C", help: "the next page (the cursor the previous page printed)" },
          ],
        }),
        jobCommand("watch", {
          summary: "follow a job: its state changes and the text as it is generated",
          args: "ID",
          arity: [1, 1],
          about: `Follows the job's event stream (GET /jobs/{id}/events) until the job ends: a line per state change
and the generated text as it streams (from when watch started: \`jobs artifact\` has all of it);
--json prints each event as one JSON line.`,
        }),
        jobCommand("wait", {
          summary: "wait until a job ends and show it",
          args: "ID",
          arity: [1, 1],
          flags: [{ name: "timeout", value: "S", help: "give up after S seconds (exit 4; the job goes on)" }],
        }),
        jobCommand("cancel", { summary: "cancel a queued or running job", args: "ID", arity: [1, 1] }),
        jobCommand("artifact", { summary: "print the result of a done job (its text; --json for all of it)", args: "ID", arity: [1, 1] }),
      ],
    },
    {
      name: "batch",
      summary: "submit a JSONL file as an OpenAI batch, follow it, list, cancel and fetch its results",
      about: `OpenAI batches (/v1/files and /v1/batches, ADR 0039) from a shell: each line of the file
({"custom_id", "method": "POST", "url", "body"}) runs as one async job; the results come back as
output and error files, one line per input line with its custom_id (in no set order).`,
      footer: BATCH_EXIT_HELP,
      commands: [
        batchCommand("submit", {
          summary: "upload FILE.jsonl and create its batch; --wait follows it and prints the results",
          args: "FILE.jsonl",
          arity: [1, 1],
          about: `Uploads the file (POST /v1/files), creates its batch (POST /v1/batches) and prints it. With
--wait, shows a progress bar on stderr (lines done, failed and total, the rate and the time left)
until the batch ends, then prints its output and error lines (or, with -o, writes them to FILE
and prints its path); with --json, the ended batch.`,
          flags: [
            { name: "endpoint", value: "E", help: "the endpoint every line names: /v1/chat/completions, /v1/completions, /v1/embeddings or /v1/responses (default: the first line's url)" },
            { name: "window", value: "D", help: "the completion window: 24h (default), or a duration (90m, 48h) or days (7d)" },
            { name: "webhook", value: "URL", help: "where to POST the batch's end (batch.completed, …), besides FOREMAN_WEBHOOK_URL (metadata.webhook_url)" },
            {
              name: "line-webhooks",
              value: "EVENTS",
              help: "each line's own job webhooks too: true, or a comma-separated list of job events (job.done,job.failed); sent to --webhook, else FOREMAN_WEBHOOK_URL (metadata.line_webhooks)",
            },
            { name: "wait", help: "follow the batch until it ends, then print its results" },
            { name: "timeout", value: "S", help: "with --wait: give up waiting after S seconds (exit 4; the batch goes on)" },
            { name: "output", short: "o", value: "FILE", help: "with --wait: write the results to FILE and print its path", complete: "file" },
          ],
        }),
        batchCommand("ls", {
          summary: "list batches, newest first, with their lines done and failed",
          flags: [
            { name: "limit", value: "N", help: "batches per page (default 20, at most 100)" },
            { name: "after", value: "ID", help: "the next page (the id the previous page printed)" },
          ],
        }),
        batchCommand("get", { aliases: ["show"], summary: "show a batch: status, line counts, files, errors", args: "ID", arity: [1, 1] }),
        batchCommand("results", {
          summary: "print a batch's output and error lines (--json: each joined to its custom_id)",
          args: "ID",
          arity: [1, 1],
          flags: [{ name: "output", short: "o", value: "FILE", help: "write them to FILE and print its path", complete: "file" }],
        }),
        batchCommand("cancel", { summary: "cancel a batch: lines not yet run are cancelled, finished ones kept", args: "ID", arity: [1, 1] }),
      ],
    },
    {
      name: "usage",
      summary: "what finished work cost: tokens and target time by model, endpoint, lane, client or tag",
      about: `GET /usage as a table: over whole hours from --since to --until, one row per group with its
finished jobs and passthrough requests, prompt and output tokens (the target's own counts), and the
time spent loading, evaluating prompts, generating and holding the target. Work whose replies
carried no token counts (streamed /v1 replies whose clients asked for none) is on rows of its
own, marked (estimated). The history outlives the jobs (FOREMAN_USAGE_RETENTION_HOURS, a year).`,
      flags: [
        { name: "since", value: "WHEN", help: "start: a span back from now (90m, 24h, 7d, 2w) or an RFC 3339 time (default 24h)" },
        { name: "until", value: "WHEN", help: "end, in the same forms (default now)" },
        { name: "by", value: "DIM", help: `one row per ${USAGE_DIMENSIONS.join(", ")} (default model); client: the caller's address and User-Agent product; tag: metadata.tag or X-Foreman-Tag`, complete: USAGE_DIMENSIONS },
        ...CLIENT_FLAGS,
      ],
      footer: `Examples:
  foreman usage --since 7d --by model
  foreman usage --since 2026-12-01T00:00:00Z --until 2026-12-02T00:00:00Z --by client --json

Exit codes:
  0  ok
  2  usage error
  3  HTTP error from foreman (a bad --since is a 400), or foreman could not be reached`,
      run: async () => (await import("./usage.ts")).usage,
    },
    {
      name: "pull",
      summary: "have the target download models, with progress",
      args: "MODEL...",
      arity: [1, Infinity],
      about:
        "Asks the target to download each model, showing its progress: bars on a terminal, a line per step\notherwise. Goes through foreman's /api/pull unless --target is given.",
      flags: [{ name: "target", value: "URL", help: "talk to this Ollama directly instead of through foreman" }, ...CONNECTION_FLAGS],
      footer: `Exit codes:
  0  every model reached success
  1  a model failed (the target's message is printed)
  2  usage error
  3  HTTP error, or foreman / the target could not be reached`,
      run: async () => (await import("./pull.ts")).pull,
    },
    {
      name: "backup",
      summary: "copy the database, consistently, while foreman runs",
      args: "PATH",
      arity: [1, 1],
      complete: "file",
      about: `Copies foreman's database to PATH with SQLite's VACUUM INTO: a consistent copy of everything
committed when it starts, made while foreman keeps running (no sqlite3 needed; it works inside
the container: docker compose exec foreman /foreman backup /data/backup.db). Batch files go into
PATH.files/, each checked against its recorded size and SHA-256. The copy is checked before the
command says it is done. To restore: stop foreman, put the copy in place of the database
(removing any -wal and -shm files beside it) and PATH.files/ as files/ beside it, start foreman.`,
      flags: [
        { name: "db", value: "FILE", help: "the database (default $FOREMAN_DB, else the one foreman serve opens: see foreman serve --help)", complete: "file" },
        { name: "force", help: "replace PATH if it exists" },
      ],
      footer: "Exit codes:\n  0  the copy is made and passed its integrity check\n  1  it could not be made (the message says why)\n  2  usage error (PATH or PATH.files exists without --force)",
      run: async () => (await import("./backup.ts")).backup,
    },
    {
      name: "sim",
      summary: "run the Ollama simulator on its own",
      about: "Starts an Ollama simulator (no GPU needed) and prints its URL; runs until Ctrl-C or SIGTERM.",
      flags: SIM_FLAGS,
      footer: SIM_FOOTER,
      run: async () => (await import("./sim.ts")).sim,
    },
    {
      name: "healthcheck",
      summary: "exit 0 when foreman answers /healthz (for container health checks)",
      flags: [CONNECTION_FLAGS[0]!],
      footer: "Exit codes:\n  0  foreman answered /healthz within 3 s\n  1  it did not",
      run: async () => (await import("./healthcheck.ts")).healthcheck,
    },
    {
      name: "completion",
      summary: "print a shell completion script (bash, zsh, fish)",
      args: "SHELL",
      arity: [1, 1],
      complete: SHELLS,
      about: "Prints the completion script for SHELL (bash, zsh or fish), made from the same table as --help.",
      footer: `Load it for this shell:
  source <(foreman completion bash)          # bash
  source <(foreman completion zsh)           # zsh
  foreman completion fish | source           # fish
Or for good:
  foreman completion bash > ~/.local/share/bash-completion/completions/foreman
  foreman completion zsh > "\${fpath[1]}/_foreman"
  foreman completion fish > ~/.config/fish/completions/foreman.fish`,
      run: async () => completion,
    },
    { name: "version", summary: "print the version (as --version)", run: async () => (invocation) => root({ ...invocation, values: { version: true } }) },
    { name: "help", summary: "show the help of a command", args: "[COMMAND...]", arity: [0, 3], run: async () => help },
  ],
};

// `foreman jobs submit` flags → the POST /jobs body. Pure (file reading is passed in), so
// every combination is tested without a server. The server still validates the result.
import { ENDPOINTS } from "../../jobs/index.ts";
import type { Submission } from "../../clients/ts/types.ts";
import { UsageError } from "./exit-codes.ts";
import { oneOf } from "./spec.ts";

export interface SubmitFlags {
  endpoint?: string;
  model?: string;
  prompt?: string;
  message?: string[];
  request?: string;
  webhook?: string;
  priority?: string;
  "no-preempt"?: boolean;
  metadata?: string;
  "run-after"?: string;
  "start-by"?: string;
  "max-run"?: string;
}

/** Where --prompt goes for each endpoint; chat endpoints take it as a user message. */
const TEXT_FIELD: Readonly<Record<string, string>> = {
  "/api/generate": "prompt",
  "/v1/completions": "prompt",
  "/api/embed": "input",
  "/v1/embeddings": "input",
  "/api/embeddings": "prompt",
  "/v1/responses": "input",
};

/** `--request '{"model":…}'` or `--request @file.json`: a JSON object. */
function jsonObject(flag: string, text: string, readFile: (path: string) => string): Record<string, unknown> {
  let source = text;
  if (text.startsWith("@")) {
    try {
      source = readFile(text.slice(1));
    } catch (err) {
      throw new UsageError(`${flag}: cannot read ${text.slice(1)}: ${(err as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new UsageError(`${flag}: not valid JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new UsageError(`${flag}: expected a JSON object`);
  return value as Record<string, unknown>;
}

export function buildSubmission(flags: SubmitFlags, readFile: (path: string) => string): Submission {
  const endpoint = oneOf("--endpoint", flags.endpoint ?? "/api/chat", ENDPOINTS)!;
  const request = flags.request === undefined ? {} : jsonObject("--request", flags.request, readFile);
  if (flags.model !== undefined) request.model = flags.model;
  if (typeof request.model !== "string" || request.model === "") throw new UsageError("a model is required: --model NAME, or a request with a model");
  const texts = [...(flags.prompt === undefined ? [] : [flags.prompt]), ...(flags.message ?? [])];
  const field = TEXT_FIELD[endpoint];
  if (field) {
    if (flags.message?.length) throw new UsageError(`--message is for chat endpoints; use --prompt with ${endpoint}`);
    if (flags.prompt !== undefined) request[field] = flags.prompt;
  } else if (texts.length) {
    const earlier = Array.isArray(request.messages) ? request.messages : [];
    request.messages = [...earlier, ...texts.map((content) => ({ role: "user", content }))];
  }
  const submission: Submission = { endpoint: endpoint as Submission["endpoint"], request };
  if (flags.webhook !== undefined) submission.webhook = flags.webhook;
  if (flags.priority !== undefined) {
    if (!/^-?\d+$/.test(flags.priority)) throw new UsageError("--priority: expected an integer");
    submission.priority = Number(flags.priority);
  }
  if (flags["no-preempt"] === true) submission.preemptible = false;
  if (flags.metadata !== undefined) submission.metadata = jsonObject("--metadata", flags.metadata, readFile);
  // times and durations go as given: the server reads them (and names the field when one is wrong)
  if (flags["run-after"] !== undefined) submission.run_after = flags["run-after"];
  if (flags["start-by"] !== undefined) submission.start_by = flags["start-by"];
  if (flags["max-run"] !== undefined) submission.max_run = flags["max-run"];
  return submission;
}

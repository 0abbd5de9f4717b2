// What work cost over a span of time, grouped by model, endpoint, lane, client or tag: sums from
// the usage rollup (hours, days, weeks; ADR 0036), which outlives the jobs themselves.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../src/http/route.ts";
import { HttpError } from "../src/contract/http-error.ts";
import { pointInTime } from "../src/queue/usage.ts";
import { USAGE_DIMENSIONS } from "../src/contract/usage.ts";

const DAY_MS = 86_400_000;
const when = "an RFC 3339 time, or a span back from now: 90m, 24h, 7d, 2w";

export const UsageQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ maxLength: 64, description: `start (${when}); rounded down to its hour; default 24h` })),
    until: Type.Optional(Type.String({ maxLength: 64, description: `end (${when}); rounded up to its hour; default now` })),
    by: Type.Optional(Type.Union(USAGE_DIMENSIONS.map((d) => Type.Literal(d)), { description: "what one row groups: model (default), endpoint, lane, client (address and User-Agent product) or tag" })),
  },
  { additionalProperties: false },
);

const UsageRowSchema = Type.Object({
  group: Type.Union([Type.String(), Type.Null()], { description: "the model, endpoint, lane, client or tag; null for work with no client or tag" }),
  estimated: Type.Boolean({ description: "true: work whose replies carried no token counts (streamed /v1 replies whose clients did not ask for usage), reported apart from the exact counts" }),
  jobs: Type.Integer({ description: "finished work (async jobs and passthrough requests that ended done)" }),
  prompt_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
  load_ms: Type.Integer(),
  prompt_eval_ms: Type.Integer(),
  generation_ms: Type.Integer(),
  target_ms: Type.Integer({ description: "holding the target, by foreman's clock" }),
});

export const UsageReportSchema = Type.Object({
  by: Type.Union(USAGE_DIMENSIONS.map((d) => Type.Literal(d))),
  since: Type.String({ format: "date-time", description: "the start of the first hour counted" }),
  until: Type.String({ format: "date-time", description: "the end of the last hour counted" }),
  rows: Type.Array(UsageRowSchema, { description: "one row per group (two when a group has exact and estimated work), by group" }),
});

export default defineRoute({
  summary: "What finished work cost, by model, endpoint, lane, client or tag",
  tags: ["ops"],
  query: UsageQuery,
  responses: { 200: { description: "sums over the hours asked for", schema: UsageReportSchema }, 400: { description: "since or until is not a time; the message names it" } },
  handle: async ({ query, services: { usage, queue } }) => {
    const now = Date.now();
    const at = (name: "since" | "until", fallback: number) => {
      const text = query[name];
      if (text === undefined) return fallback;
      const t = pointInTime(text, now);
      if (t === null) throw new HttpError(400, `query ${name}: expected ${when}`, `/query/${name}`);
      return t;
    };
    const since = at("since", now - DAY_MS);
    const until = at("until", now);
    if (until < since) throw new HttpError(400, "query until: before since", "/query/until");
    const by = query.by ?? "model";
    // what it reports is on disk, as every reply of the job API
    await queue.settled();
    const { from, to, rows } = usage.report(by, since, until);
    return json({
      by,
      since: new Date(from).toISOString(),
      until: new Date(to).toISOString(),
      rows: rows.map(({ value, ...sums }) => ({ group: value === "" ? null : value, ...sums })),
    });
  },
});

// Readiness: foreman can accept work — its database takes writes (a write that changes nothing
// is committed to find out; a SELECT succeeds on a full disk) and the worker is not stuck on an
// end it cannot write. The target's reachability is reported, not required: foreman accepts
// work while the target sleeps. Orchestrators probe it without a token, so without one it says
// only ready or not; the details (the target's URL, the database's error) need the token.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../src/http/route.ts";
import { refusesWrites } from "../src/store/open.ts";

const Ready = Type.Object({
  status: Type.Union([Type.Literal("ready"), Type.Literal("unavailable")]),
  database: Type.Optional(Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) }, { description: "with the token (or when none is configured)" })),
  target: Type.Optional(Type.Object({ url: Type.String(), up: Type.Union([Type.Boolean(), Type.Null()]) }, { description: "with the token (or when none is configured)" })),
});

export default defineRoute({
  summary: "Readiness: the database takes writes; target reachability reported (details with the token)",
  tags: ["ops"],
  public: true,
  responses: { 200: { description: "ready", schema: Ready }, 503: { description: "the database refuses writes (or the worker cannot record a finished job); the reason with the token", schema: Ready } },
  handle: ({ services, authorized }) => {
    const error = refusesWrites(services.store) ?? services.worker.unrecordedEnd;
    const database: { ok: boolean; error?: string } = error === undefined ? { ok: true } : { ok: false, error };
    const status = database.ok ? "ready" : "unavailable";
    const code = database.ok ? 200 : 503;
    if (!authorized) return json({ status }, code);
    const target = { url: services.target.displayUrl, up: services.poller.up };
    return json({ status, database, target }, code);
  },
});

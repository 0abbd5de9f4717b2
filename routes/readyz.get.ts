// Readiness: the database answers. The target's reachability is reported, not required:
// foreman accepts work while the target sleeps. Orchestrators probe it without a token, so
// without one it says only ready or not; the details (the target's URL) need the token.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../src/http/route.ts";

const Ready = Type.Object({
  status: Type.Union([Type.Literal("ready"), Type.Literal("unavailable")]),
  database: Type.Optional(Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) }, { description: "with the token (or when none is configured)" })),
  target: Type.Optional(Type.Object({ url: Type.String(), up: Type.Union([Type.Boolean(), Type.Null()]) }, { description: "with the token (or when none is configured)" })),
});

export default defineRoute({
  summary: "Readiness: database usable; target reachability reported (details with the token)",
  tags: ["ops"],
  public: true,
  responses: { 200: { description: "ready", schema: Ready }, 503: { description: "database unusable", schema: Ready } },
  handle: ({ services, authorized }) => {
    let database: { ok: boolean; error?: string } = { ok: true };
    try {
      services.store.db.query("SELECT 1").get();
    } catch (err) {
      database = { ok: false, error: (err as Error).message };
    }
    const status = database.ok ? "ready" : "unavailable";
    const code = database.ok ? 200 : 503;
    if (!authorized) return json({ status }, code);
    const target = { url: services.target.displayUrl, up: services.poller.up };
    return json({ status, database, target }, code);
  },
});

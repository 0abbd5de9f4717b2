// Readiness: the database answers. The target's reachability is reported, not required:
// foreman accepts work while the target sleeps.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../src/http/route.ts";

const Ready = Type.Object({
  status: Type.Union([Type.Literal("ready"), Type.Literal("unavailable")]),
  database: Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) }),
  target: Type.Object({ url: Type.String(), up: Type.Union([Type.Boolean(), Type.Null()]) }),
});

export default defineRoute({
  summary: "Readiness: database usable; target reachability reported",
  tags: ["ops"],
  public: true,
  responses: { 200: { description: "ready", schema: Ready }, 503: { description: "database unusable", schema: Ready } },
  handle: ({ services }) => {
    let database: { ok: boolean; error?: string } = { ok: true };
    try {
      services.store.db.query("SELECT 1").get();
    } catch (err) {
      database = { ok: false, error: (err as Error).message };
    }
    const target = { url: services.target.displayUrl, up: services.poller.up };
    return json({ status: database.ok ? "ready" : "unavailable", database, target }, database.ok ? 200 : 503);
  },
});

// Liveness: the process is up and serving. Never touches the database or the target.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../src/http/route.ts";

export default defineRoute({
  summary: "Liveness: the process is serving",
  tags: ["ops"],
  public: true,
  responses: { 200: { description: "alive", schema: Type.Object({ status: Type.Literal("ok") }) } },
  handle: () => json({ status: "ok" }),
});

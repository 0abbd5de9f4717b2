// Prometheus scrape endpoint.
import { defineRoute } from "../src/http/route.ts";

export default defineRoute({
  summary: "Prometheus metrics (text exposition format 0.0.4)",
  tags: ["ops"],
  responses: { 200: { description: "metrics", contentType: "text/plain; version=0.0.4" } },
  handle: ({ services }) => new Response(services.telemetry.registry.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }),
});

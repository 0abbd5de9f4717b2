// /openapi.json from the same TypeBox schemas the routes validate with.
import type { RouteEntry } from "./route.ts";
import { VERSION } from "../ops/version.ts";

export function buildOpenApi(routes: readonly RouteEntry[]): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, path, def } of routes) {
    const oaPath = path.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{path}");
    const params = [...oaPath.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const query = def.query?.properties
      ? Object.entries(def.query.properties as Record<string, unknown>).map(([name, schema]) => ({
          name,
          in: "query",
          required: ((def.query?.required as string[] | undefined) ?? []).includes(name),
          schema,
        }))
      : [];
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(def.responses ?? { 200: { description: "OK" } })) {
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: { [r.contentType ?? "application/json"]: { schema: r.schema } } } : {}),
      };
    }
    (paths[oaPath] ??= {})[method.toLowerCase()] = {
      summary: def.summary,
      ...(def.tags ? { tags: def.tags } : {}),
      ...(params.length + query.length ? { parameters: [...params, ...query] } : {}),
      ...(def.body ? { requestBody: { required: true, content: { "application/json": { schema: def.body } } } } : {}),
      responses,
      ...(def.public ? { security: [] } : {}),
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "foreman", version: VERSION, description: "A queued, observable, Ollama- and OpenAI-compatible job endpoint in front of one Ollama server." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  };
}

// The API description, generated from the route schemas.
import { defineRoute, json } from "../src/http/route.ts";
import { buildOpenApi } from "../src/http/openapi.ts";

/** The document, built once per manifest: the routes never change while foreman runs. */
const built = new WeakMap<object, unknown>();

export default defineRoute({
  summary: "OpenAPI 3.1 document of this API",
  tags: ["ops"],
  handle: ({ routes }) => {
    if (!built.has(routes)) built.set(routes, buildOpenApi(routes));
    return json(built.get(routes));
  },
});

// The API description, generated from the route schemas.
import { defineRoute, json } from "../src/http/route.ts";
import { buildOpenApi } from "../src/http/openapi.ts";

export default defineRoute({
  summary: "OpenAPI 3.1 document of this API",
  tags: ["ops"],
  handle: ({ routes }) => json(buildOpenApi(routes)),
});

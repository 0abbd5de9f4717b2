// The API description, generated from the route schemas.
import { defineRoute, json } from "../src/route.ts";
import { buildOpenApi } from "../src/openapi.ts";
import { routes } from "../src/routes.gen.ts";

export default defineRoute({
  summary: "OpenAPI 3.1 document of this API",
  tags: ["ops"],
  handle: () => json(buildOpenApi(routes)),
});

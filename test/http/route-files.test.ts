import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseRouteFile, renderManifest } from "../../src/http/route-files.ts";

describe("file-based routes", () => {
  test("src/http/routes.gen.ts registers exactly the files in routes/ (run `npm run routes` after adding one)", async () => {
    const root = join(import.meta.dir, "..", "..");
    const files = Array.from(new Bun.Glob("**/*.ts").scanSync(join(root, "routes"))).sort();
    const current = await Bun.file(join(root, "src/http/routes.gen.ts")).text();
    expect(current).toBe(renderManifest(files));
  });

  test("every file in routes/ is a route file", () => {
    const root = join(import.meta.dir, "..", "..");
    for (const file of new Bun.Glob("**/*.ts").scanSync(join(root, "routes"))) expect(parseRouteFile(file)).not.toBeNull();
  });

  test.each([
    ["healthz.get.ts", "GET", "/healthz"],
    ["index.head.ts", "HEAD", "/"],
    ["api/chat.post.ts", "POST", "/api/chat"],
    ["jobs/[id]/cancel.post.ts", "POST", "/jobs/:id/cancel"],
    ["jobs/index.get.ts", "GET", "/jobs"],
    ["openapi.json.get.ts", "GET", "/openapi.json"],
    ["v1/models/[...id].get.ts", "GET", "/v1/models/*"],
  ])("%s is %s %s", (file, method, path) => {
    expect(parseRouteFile(file)).toEqual({ file, method: method as "GET", path });
  });

  test("files without a method suffix are not routes", () => {
    expect(parseRouteFile("api/helpers.ts")).toBeNull();
  });
});

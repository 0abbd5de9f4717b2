// Writes src/http/routes.gen.ts from the files in routes/ (see src/http/route-files.ts).
import { join } from "node:path";
import { renderManifest } from "../src/http/route-files.ts";

const root = join(import.meta.dir, "..");
const files = Array.from(new Bun.Glob("**/*.ts").scanSync(join(root, "routes"))).sort();
await Bun.write(join(root, "src/http/routes.gen.ts"), renderManifest(files));
console.log(`src/http/routes.gen.ts: ${files.length} route files`);

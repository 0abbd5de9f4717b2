// The layout ADR 0014 promises, checked: nothing at the top of src/ but the entry, the
// composition root and the settings; no import cycles between modules (type-only imports
// included); the TypeScript client imports nothing of the server but src/contract/.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = join(import.meta.dir, "..");
const IMPORT = /(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/g;

function sources(): string[] {
  const files: string[] = [];
  for (const dir of ["src", "routes", "jobs", "clients/ts"]) {
    for (const f of new Bun.Glob("**/*.ts").scanSync(join(root, dir))) if (!f.includes("dist/") && !f.endsWith(".d.ts")) files.push(join(dir, f));
  }
  return files.sort();
}

/** Static imports only: a dynamic import() does not run at load time, so it cannot close a cycle. */
function graph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    const deps = [...text.matchAll(IMPORT)].map((m) => relative(root, resolve(dirname(join(root, file)), m[1]!))).filter((d) => known.has(d));
    edges.set(file, deps);
  }
  return edges;
}

/** Strongly connected components with more than one module (Tarjan). */
function cycles(edges: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe("layout (ADR 0014)", () => {
  test("the top of src/ holds only main.ts, server.ts and config.ts; the rest is in a folder per part", () => {
    const top = [...new Bun.Glob("*.ts").scanSync(join(root, "src"))].sort();
    expect(top).toEqual(["config.ts", "main.ts", "server.ts"]);
  });

  test("no import cycles among modules", () => {
    expect(cycles(graph(sources()))).toEqual([]);
  });

  test("a cycle is caught (the check itself works)", () => {
    expect(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]))).toEqual([["a", "b", "c"]]);
  });

  test("the TypeScript client imports nothing of the server but src/contract/", () => {
    const edges = graph(sources());
    const outside = [...edges].flatMap(([file, deps]) => (file.startsWith("clients/ts/") ? deps.filter((d) => !d.startsWith("clients/ts/") && !d.startsWith("src/contract/")).map((d) => `${file} → ${d}`) : []));
    expect(outside).toEqual([]);
  });

  test("src/contract/ depends on nothing: no package imports, no imports from other parts", () => {
    const offenders: string[] = [];
    for (const f of new Bun.Glob("*.ts").scanSync(join(root, "src/contract"))) {
      const text = readFileSync(join(root, "src/contract", f), "utf8");
      for (const m of text.matchAll(/from\s+["']([^"']+)["']/g)) if (!m[1]!.startsWith("./")) offenders.push(`${f}: ${m[1]}`);
    }
    expect(offenders).toEqual([]);
  });
});

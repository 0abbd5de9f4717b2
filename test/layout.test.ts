// The layout ADR 0014 promises, checked: nothing at the top of src/ but the entry, the
// composition root and the settings; no import cycles between modules (type-only imports
// included); the TypeScript client imports nothing of the server but src/contract/. And the
// layers of ADR 0037: each folder imports only the folders its row of LAYERS names.
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

/**
 * Who may import whom (ADR 0037): each part and the parts it may import, lowest first. A part is
 * a folder (or one of the three files at the top of src/); imports within a part are free.
 * Type-only and dynamic imports count like any other.
 */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  // the words of the API and the wire, shared with the clients: nothing of anyone
  "src/contract": [],
  // what Ollama itself does (Go's decoder and durations, needsReload, origins and Host, errors)
  "src/ollama": ["src/contract"],
  "src/schema": ["src/contract"],
  // the ground floor: logs, metric primitives, Server-Timing, version
  "src/ops": ["src/contract"],
  "src/store": ["src/contract", "src/ops"],
  "src/target": ["src/contract", "src/ollama", "src/ops"],
  // the endpoint kinds: how each inference route reads a body and a reply
  "jobs": ["src/contract", "src/ollama", "src/schema"],
  "src/queue": ["src/contract", "src/ollama", "src/schema", "src/ops", "src/store", "src/target", "jobs"],
  "src/webhooks": ["src/contract", "src/ops", "src/store", "src/queue"],
  "src/engine": ["src/contract", "src/ollama", "src/schema", "src/ops", "src/store", "src/target", "jobs", "src/queue", "src/config.ts"],
  // the passthrough: a narrow port and answers as values; the edge defines its routes (ADR 0037 §9)
  "src/passthrough": ["src/contract", "src/ollama", "src/schema", "src/ops", "src/target", "jobs", "src/queue", "src/engine"],
  // the simulator is Ollama: its rules, the schema checks and the contract, nothing of foreman
  "src/sim": ["src/contract", "src/ollama", "src/schema"],
  // the edge: the app, auth, the dialects, the services the routes read
  "src/http": ["src/contract", "src/ollama", "src/schema", "src/ops", "src/store", "src/target", "jobs", "src/queue", "src/engine", "src/webhooks", "src/passthrough", "src/config.ts", "routes"],
  "routes": ["src/contract", "src/ollama", "src/schema", "src/ops", "src/store", "src/queue", "src/engine", "src/webhooks", "src/http", "jobs", "src/config.ts"],
  "src/config.ts": ["src/contract", "src/ollama", "src/store", "src/target", "src/webhooks"],
  // the composition root builds everything
  "src/server.ts": ["src/contract", "src/ollama", "src/schema", "src/ops", "src/store", "src/target", "jobs", "src/queue", "src/webhooks", "src/engine", "src/passthrough", "src/sim", "src/http", "routes", "src/config.ts"],
  "clients/ts": ["src/contract"],
  "src/cli": ["src/contract", "src/ops", "src/sim", "jobs", "clients/ts", "src/config.ts", "src/server.ts"],
  "src/main.ts": ["src/cli"],
};

/** The imports that must stay impossible, whatever the table above grows into. */
const NEVER: readonly (readonly [from: string, to: readonly string[]])[] = [
  ["src/sim", ["src/engine", "src/queue", "src/http", "src/passthrough", "src/webhooks", "src/server.ts", "src/config.ts"]],
  ["src/ops", ["src/engine", "src/queue", "src/webhooks", "src/http"]],
  ["src/queue", ["src/engine", "src/http", "src/passthrough", "src/webhooks"]],
  ["src/passthrough", ["src/http", "routes", "src/config.ts"]],
  ["src/ollama", Object.keys(LAYERS).filter((p) => p !== "src/ollama" && p !== "src/contract")],
  ["src/contract", Object.keys(LAYERS).filter((p) => p !== "src/contract")],
  ["clients/ts", Object.keys(LAYERS).filter((p) => p !== "clients/ts" && p !== "src/contract")],
];

/** The part a file belongs to: the longest entry of LAYERS it is in. */
function partOf(file: string): string | undefined {
  return Object.keys(LAYERS)
    .filter((p) => file === p || file.startsWith(`${p}/`))
    .sort((a, b) => b.length - a.length)[0];
}

const ANY_IMPORT = /(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** Every relative import of a source file that crosses the table: `file:line → part`. */
function crossings(file: string, text: string): string[] {
  const from = partOf(file);
  const out: string[] = [];
  for (const m of text.matchAll(ANY_IMPORT)) {
    const target = relative(root, resolve(dirname(join(root, file)), (m[1] ?? m[2])!));
    const to = partOf(target);
    if (to === from || (from && to && LAYERS[from]!.includes(to))) continue;
    if (!from || !to) {
      // a file outside the table (package.json for the version) is nobody's part
      if (target.endsWith(".ts")) out.push(`${file}:${text.slice(0, m.index).split("\n").length} → ${to ?? target}`);
      continue;
    }
    out.push(`${file}:${text.slice(0, m.index).split("\n").length} → ${to}`);
  }
  return out;
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

  test("every import stays within the folder table (ADR 0037)", () => {
    const offenders = sources().flatMap((file) => crossings(file, readFileSync(join(root, file), "utf8")));
    expect(offenders).toEqual([]);
  });

  test("every source file is in a part of the table", () => {
    expect(sources().filter((file) => partOf(file) === undefined)).toEqual([]);
  });

  test("the table keeps its nevers: the simulator, ops/, the queue, the passthrough, Ollama's rules, the contract and the client", () => {
    const broken = NEVER.flatMap(([from, to]) => to.filter((t) => LAYERS[from]!.includes(t)).map((t) => `${from} → ${t}`));
    expect(broken).toEqual([]);
  });

  test("a crossing is caught and named by file and line (the check itself works)", () => {
    expect(crossings("src/queue/x.ts", 'import { a } from "./y.ts";\nimport type { Worker } from "../engine/worker.ts";\n')).toEqual(["src/queue/x.ts:2 → src/engine"]);
    expect(crossings("src/sim/x.ts", 'const m = await import("../http/app.ts");')).toEqual(["src/sim/x.ts:1 → src/http"]);
    expect(crossings("src/ops/x.ts", 'import {\n  b,\n} from "../contract/states.ts";')).toEqual([]);
  });
});

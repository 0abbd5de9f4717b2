// /openapi.json from the same TypeBox schemas the routes validate with. Generated clients get
// real names from it: an operationId per operation (foreman's own API named in one table, the
// routes that imitate Ollama and OpenAI named from their method and path), the API's schemas
// under components (referred to, not repeated), the headers foreman's API defines, the 401,
// 408 and 413 every route can answer, and text/event-stream for the event stream.
import { Type, type TSchema } from "@sinclair/typebox";
import type { RouteEntry } from "./route.ts";
import { dialectOf } from "./errors.ts";
import { VERSION } from "../ops/version.ts";

/** foreman's own error body (/jobs, /status, …): the shape errors.ts writes for the "foreman" dialect. */
const ErrorSchema = Type.Object({
  error: Type.Object({
    status: Type.Integer({ description: "the HTTP status, repeated" }),
    message: Type.String({ description: "what went wrong, for a person" }),
    field: Type.Optional(Type.String({ description: "JSON pointer of the offending field (/request/model), when one is to blame" })),
  }),
});

/** Ollama's error body, which the routes that imitate it answer with. */
const OllamaErrorSchema = Type.Object({ error: Type.String() });

/** An event stream, as OpenAPI 3.1 can say it: text, its events named in words. */
const EVENT_STREAM = { type: "string", description: "Server-Sent Events: `event: job.<status>` with a Job as data (id: the event's id, for Last-Event-ID), `event: job.progress` with a JobProgress; the stream ends after the terminal event" };

const header = (name: string, description: string, schema: object = { type: "string" }) => ({ name, in: "header", required: false, description, schema });

interface OwnOperation {
  operationId: string;
  headers?: ReturnType<typeof header>[];
  /** Reply headers clients read, by status. */
  replyHeaders?: Record<string, Record<string, { description: string; schema: { type: string } }>>;
}

const JOB_REPLY_HEADERS = {
  Location: { description: "the job's URL, /jobs/{id}", schema: { type: "string" } },
  "Preference-Applied": { description: "wait=N when Prefer: wait=N was honoured", schema: { type: "string" } },
  "Idempotent-Replayed": { description: "true when an Idempotency-Key replay returned the job an earlier submission made", schema: { type: "string" } },
};

/** foreman's own operations, by `METHOD path`: their names and the headers they define. */
const OWN: Readonly<Record<string, OwnOperation>> = {
  "POST /jobs": {
    operationId: "submitJob",
    headers: [
      header("Idempotency-Key", "1 to 255 characters; a repeat of the same submission with the same key returns the same job, never a second one"),
      header("Prefer", "wait=N (seconds, at most 300): hold the reply until the job finishes or N seconds pass"),
    ],
    replyHeaders: { 200: JOB_REPLY_HEADERS, 202: JOB_REPLY_HEADERS },
  },
  "GET /jobs": { operationId: "listJobs" },
  "GET /jobs/{id}": { operationId: "getJob" },
  "POST /jobs/{id}/cancel": { operationId: "cancelJob" },
  "GET /jobs/{id}/artifact": { operationId: "getJobArtifact" },
  "GET /jobs/{id}/events": { operationId: "streamJobEvents", headers: [header("Last-Event-ID", "resume after this event (the id of the last one received)")] },
  "GET /jobs/{id}/deliveries": { operationId: "listJobDeliveries" },
  "GET /status": { operationId: "getStatus" },
  "GET /healthz": { operationId: "getHealth" },
  "GET /readyz": { operationId: "getReadiness" },
  "GET /metrics": { operationId: "getMetrics" },
  "GET /openapi.json": { operationId: "getOpenApiDocument" },
};

const pascal = (word: string) => word.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");

/** Pure: an operation's id — foreman's own from the table, the others from method and path (`postApiChat`, `getApiAny`, `headRoot`). */
export function operationId(method: string, oaPath: string): string {
  const own = OWN[`${method} ${oaPath}`];
  if (own) return own.operationId;
  const segments = oaPath.split("/").filter(Boolean);
  const words = segments.map((s) => (s === "{path}" ? "Any" : s.startsWith("{") ? `By${pascal(s.slice(1, -1))}` : pascal(s)));
  return method.toLowerCase() + (words.length ? words.join("") : "Root");
}

/** The schema with every named one (by identity) replaced by a $ref to components; JSON-safe (TypeBox's symbol keys dropped). */
function referring(schema: unknown, names: Map<unknown, string>, self?: unknown): unknown {
  if (schema !== self && names.has(schema)) return { $ref: `#/components/schemas/${names.get(schema)}` };
  if (Array.isArray(schema)) return schema.map((s) => referring(s, names));
  if (!schema || typeof schema !== "object") return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, referring(v, names)]));
}

export function buildOpenApi(routes: readonly RouteEntry[], schemas: Readonly<Record<string, TSchema>> = {}): unknown {
  const named: Record<string, unknown> = { ...schemas, Error: ErrorSchema, OllamaError: OllamaErrorSchema };
  const names = new Map<unknown, string>(Object.entries(named).map(([name, schema]) => [schema, name]));
  const ref = (schema: unknown) => referring(schema, names);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, path, def } of routes) {
    const oaPath = path.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{path}");
    const own = OWN[`${method} ${oaPath}`];
    const dialect = dialectOf(oaPath);
    const params = [...oaPath.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const query = def.query?.properties
      ? Object.entries(def.query.properties as Record<string, unknown>).map(([name, schema]) => ({
          name,
          in: "query",
          required: ((def.query?.required as string[] | undefined) ?? []).includes(name),
          schema: ref(schema),
        }))
      : [];
    const errorContent = dialect === "foreman" ? { "application/json": { schema: ref(ErrorSchema) } } : dialect === "ollama" ? { "application/json": { schema: ref(OllamaErrorSchema) } } : undefined;
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(def.responses ?? { 200: { description: "OK" } })) {
      // a declared content type without a schema is text (the event stream described in words)
      const schema = r.schema ?? (r.contentType === "text/event-stream" ? EVENT_STREAM : r.contentType ? { type: "string" } : undefined);
      const content = schema ? { [r.contentType ?? "application/json"]: { schema: ref(schema) } } : Number(status) >= 400 ? errorContent : undefined;
      const headers = own?.replyHeaders?.[status];
      responses[status] = { description: r.description, ...(headers ? { headers } : {}), ...(content ? { content } : {}) };
    }
    // what any route may answer besides its own: the token refused, a body too slow or too large
    const standard: Record<string, string> = {
      ...(def.public ? {} : { 401: "FOREMAN_TOKEN is set and the request did not send it as Authorization: Bearer (or x-api-key)" }),
      ...(method === "POST" ? { 408: "the request body did not arrive within FOREMAN_BODY_TIMEOUT_MS", 413: "the request body is larger than FOREMAN_MAX_BODY_BYTES" } : {}),
    };
    for (const [status, description] of Object.entries(standard)) responses[status] ??= { description, ...(errorContent ? { content: errorContent } : {}) };
    (paths[oaPath] ??= {})[method.toLowerCase()] = {
      operationId: operationId(method, oaPath),
      summary: def.summary,
      ...(def.tags ? { tags: def.tags } : {}),
      ...(params.length + query.length + (own?.headers?.length ?? 0) ? { parameters: [...params, ...query, ...(own?.headers ?? [])] } : {}),
      ...(def.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(def.body) } } } } : {}),
      responses,
      ...(def.public ? { security: [] } : {}),
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "foreman", version: VERSION, description: "A queued, observable, Ollama- and OpenAI-compatible job endpoint in front of one Ollama server." },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: Object.fromEntries(Object.entries(named).map(([name, schema]) => [name, referring(schema, names, schema)])),
    },
    security: [{ bearer: [] }],
    paths,
  };
}

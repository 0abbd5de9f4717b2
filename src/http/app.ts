// The HTTP edge: registers every route of the generated manifest on Elysia, and does the
// few things all routes share — Ollama's origin and Host policy (before anything else runs),
// request ids, the bearer token, query/body validation and mapping errors into the caller's
// dialect.
import type { TSchema } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { tokenMatcher } from "./auth.ts";
import { bodyUnread, drainBody, readJson, releaseBody } from "./body.ts";
import { CLIENT_CLOSED_REQUEST, dialectOf, errorResponse, HandlerError } from "./errors.ts";
import { HttpError } from "../contract/http-error.ts";
import { edgeDecision, type HeaderPair } from "../ollama/origin-policy.ts";
import type { RouteDef } from "./route.ts";
import { validate } from "../schema/validate.ts";
import { storageTrouble } from "../store/open.ts";
import { routes } from "./routes.gen.ts";
import type { Services } from "./services.ts";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The job API reports stored job state: its replies wait until that state is on disk (ADR 0016). */
const REPORTS_STORED_STATE = "/jobs";

/**
 * Each route's path as a pattern, to tell "no such path" (404) from "not with this method" (405).
 * The catch-alls (`/api/*`, `/v1/*`) forward what they get to the target, which knows its own
 * paths; they make no path known to foreman.
 */
const CATCH_ALLS = new Set(["/api/*", "/v1/*"]);
const PATTERNS = routes.filter((r) => !CATCH_ALLS.has(r.path)).map((r) => new RegExp(`^${r.path.replace(/[.]/g, "\\.").replace(/:\w+/g, "[^/]+").replace(/\*$/, ".+")}$`));

/**
 * Unmatched requests (a method the catch-alls do not forward, a path outside them), answered as
 * Ollama (gin) does: plain-text `404 page not found`, or `405 method not allowed` for a path a
 * route has — in foreman's own dialect on its own paths (/jobs, /status, …).
 */
function unmatched(pathname: string, method: string): Response {
  const known = PATTERNS.some((p) => p.test(pathname));
  const dialect = dialectOf(pathname);
  if (known && dialect === "foreman") return errorResponse(dialect, 405, `${method} is not allowed on ${pathname}`);
  return new Response(known ? "405 method not allowed" : "404 page not found", { status: known ? 405 : 404, headers: { "content-type": "text/plain" } });
}

/** Pure: whether a path is foreman's own API (jobs, ops) rather than one that imitates Ollama (/, /api/*, /v1/*, anything unknown). */
function ownRoute(pathname: string): boolean {
  return /^\/(jobs|status|healthz|readyz|metrics|openapi\.json)(\/|$)/.test(pathname);
}

/** The CORS headers the edge decided on for a request that went on: whatever answers it carries them. */
const corsHeaders = new WeakMap<Request, HeaderPair[]>();

/**
 * Every reply's finish: the CORS headers the edge decided on, and `connection: close` when the
 * request's body was left unread (or the server would go on reading it, as slowly as the client likes).
 */
function decorated(response: Response, request: Request): Response {
  for (const [name, value] of corsHeaders.get(request) ?? []) response.headers.append(name, value);
  if (bodyUnread(request)) response.headers.set("connection", "close");
  return response;
}

/**
 * Ollama's edge, before the token and the routes (ADR 0019): a browser origin off the list, or
 * a Host name a loopback listener does not answer to (DNS rebinding), is a 403 with an empty
 * body; a preflight from an allowed origin is a 204. Anything else goes on, and its reply —
 * the route's, a 404/405, an error — gets the CORS headers.
 */
function edge(request: Request, services: Services): Response | undefined {
  if (!request.headers.has("host")) return hostless(request, services);
  const own = ownRoute(new URL(request.url).pathname);
  const decision = edgeDecision({ method: request.method, origin: request.headers.get("origin"), host: request.headers.get("host") ?? "", own }, services.edge);
  if (decision.kind === "pass") {
    if (decision.headers.length > 0) corsHeaders.set(request, decision.headers);
    return undefined;
  }
  const response = decorated(new Response(null, { status: decision.kind === "forbidden" ? 403 : 204 }), request);
  for (const [name, value] of decision.headers) response.headers.append(name, value);
  services.telemetry.http.inc({ route: "(edge)", method: request.method, status: String(response.status) });
  if (services.log.enabled("debug")) {
    services.log.debug("edge", { method: request.method, path: new URL(request.url).pathname, status: response.status, origin: request.headers.get("origin"), host: request.headers.get("host") });
  }
  return response;
}

/**
 * HTTP/1.0 allows a request without a Host header (HAProxy's default health check sends one);
 * Bun hands it over with a URL that has no origin, which nothing below can route. Liveness
 * answers it, as /healthz does; anything else is a 400 that says what is missing (ADR 0028).
 */
function hostless(request: Request, services: Services): Response {
  const { pathname } = new URL(request.url, "http://host.invalid");
  const alive = pathname === "/healthz" && (request.method === "GET" || request.method === "HEAD");
  const response = alive
    ? Response.json({ status: "ok" })
    : errorResponse(dialectOf(pathname), 400, "the request has no Host header; foreman answers such a request only on GET /healthz (HTTP/1.1 requires Host)", "/headers/host");
  services.telemetry.http.inc({ route: "(edge)", method: request.method, status: String(response.status) });
  return decorated(response, request);
}

async function dispatch(route: string, def: RouteDef, request: Request, params: Record<string, string>, peer: () => string | undefined, services: Services, authorize: (headers: Headers) => boolean): Promise<Response> {
  const started = performance.now();
  const given = request.headers.get("x-request-id");
  const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
  const url = new URL(request.url);
  let response: Response;
  try {
    const authorized = authorize(request.headers);
    if (!authorized && !def.public) {
      throw new HttpError(401, "unauthorized: send the foreman token as Authorization: Bearer <token>", undefined, { "www-authenticate": "Bearer" });
    }
    const query = def.query ? validate(def.query, queryValues(def.query, url), "query ") : undefined;
    const body = def.body ? validate(def.body, await readJson(request, services.config, services.bodies)) : undefined;
    response = await def.handle({ request, url, params, query, body, services, requestId, peer, routes, authorized });
  } catch (err) {
    // a client that went away (mid-body, or while the target was asked) broke its own request:
    // counted as 499, logged at debug, never a 500 that would page an operator
    response = request.signal.aborted ? new Response(null, { status: CLIENT_CLOSED_REQUEST }) : toErrorResponse(err, url.pathname, services, requestId);
  } finally {
    releaseBody(request);
  }
  if (route.startsWith(REPORTS_STORED_STATE)) await services.queue.settled();
  // a refusal before the body was read: the client may still be sending it (ADR 0031)
  await drainBody(request, services.config);
  decorated(response, request);
  if (!response.headers.has("x-request-id")) response.headers.set("x-request-id", requestId);
  services.telemetry.http.inc({ route, method: request.method, status: String(response.status) });
  const level = def.public || route === "/metrics" || response.status === CLIENT_CLOSED_REQUEST ? "debug" : "info";
  if (!services.log.enabled(level)) return response;
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const line = { request_id: requestId, method: request.method, route, status: response.status, ip: peer() };
  if (!response.body || !STREAMED.test(response.headers.get("content-type") ?? "")) {
    services.log[level]("request", { ...line, duration_ms: elapsed() });
    return response;
  }
  // a stream's line is written when it ends: its duration, not its time to headers
  const headersMs = elapsed();
  const body = whenEnded(response.body, (ended) => services.log[level]("request", { ...line, duration_ms: elapsed(), headers_ms: headersMs, ...(ended === "complete" ? {} : { ended }) }));
  return new Response(body, response);
}

/** Replies that stream for as long as the work runs (NDJSON, SSE). */
const STREAMED = /^(application\/x-ndjson|text\/event-stream)\b/i;

/** The same bytes, and `ended` called once when the stream completes, fails or the client cancels it. */
function whenEnded(body: ReadableStream<Uint8Array>, ended: (how: "complete" | "failed" | "canceled") => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          ended("failed");
          controller.error(err);
          return;
        }
        if (!chunk.done) return controller.enqueue(chunk.value);
        ended("complete");
        controller.close();
      },
      cancel(reason) {
        ended("canceled");
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The query string as the route's schema types it: numbers and booleans converted before validation. */
function queryValues(schema: TSchema, url: URL): unknown {
  const props = (schema.properties ?? {}) as Record<string, { type?: string }>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of url.searchParams) {
    const type = props[k]?.type;
    if ((type === "integer" || type === "number") && v.trim() !== "" && Number.isFinite(Number(v))) out[k] = Number(v);
    else if (type === "boolean" && (v === "true" || v === "false")) out[k] = v === "true";
    else out[k] = v;
  }
  return out;
}

function toErrorResponse(err: unknown, pathname: string, services: Services, requestId: string): Response {
  const dialect = dialectOf(pathname);
  if (err instanceof HttpError) return errorResponse(dialect, err.status, err.message, err.field, err.headers, err instanceof HandlerError ? "handler" : "middleware");
  const sqlite = storageTrouble(err);
  if (sqlite) {
    services.log.error("database unavailable", { request_id: requestId, path: pathname, code: sqlite });
    return errorResponse(dialect, 503, `foreman cannot write to its database right now (${sqlite}); nothing was accepted — try again later`, undefined, { "retry-after": "5" });
  }
  services.log.error("unhandled error", { request_id: requestId, path: pathname, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  return errorResponse(dialect, 500, "internal error; see foreman's log for request " + requestId);
}

export function createApp(services: Services) {
  const app = new Elysia();
  app.onRequest(async ({ request }) => {
    const refused = edge(request, services);
    // a refused origin or Host, like any refusal before the body was read: the client may still be sending it (ADR 0031)
    if (refused) await drainBody(request, services.config);
    return refused;
  });
  const { token } = services.config;
  const authorize = token === undefined ? () => true : tokenMatcher(token);
  for (const { method, path, def } of routes) {
    app.route(method, path, ({ request, params, server }) => dispatch(path, def, request, params as Record<string, string>, () => server?.requestIP(request)?.address, services, authorize), { parse: "none" });
  }
  app.onError(async ({ code, request }) => {
    const url = new URL(request.url);
    await drainBody(request, services.config);
    return decorated(code === "NOT_FOUND" ? unmatched(url.pathname, request.method) : errorResponse(dialectOf(url.pathname), 400, "bad request"), request);
  });
  return app;
}

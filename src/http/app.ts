// The HTTP edge: registers every route of the generated manifest on Elysia, and does the
// few things all routes share — Ollama's origin and Host policy (before anything else runs),
// request ids, the bearer token, query/body validation and mapping errors into the caller's
// dialect.
import type { TSchema } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { bearerMatcher } from "./auth.ts";
import { bodyUnread, readJson, releaseBody } from "./body.ts";
import { CLIENT_CLOSED_REQUEST, dialectOf, errorResponse } from "./errors.ts";
import { HttpError } from "../contract/http-error.ts";
import { edgeDecision, type HeaderPair } from "./origin-policy.ts";
import type { RouteDef } from "./route.ts";
import { validate } from "../schema/validate.ts";
import { storageTrouble } from "../store/open.ts";
import { routes } from "./routes.gen.ts";
import type { Services } from "./services.ts";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The job API reports stored job state: its replies wait until that state is on disk (ADR 0016). */
const REPORTS_STORED_STATE = "/jobs";

/** Each route's path as a pattern, to tell "no such path" (404) from "not with this method" (405). */
const PATTERNS = routes.map((r) => new RegExp(`^${r.path.replace(/[.]/g, "\\.").replace(/:\w+/g, "[^/]+").replace(/\*$/, ".+")}$`));

/** Unmatched requests, answered as Ollama (gin) does on its paths: plain-text 404 or 405. */
function unmatched(pathname: string, method: string): Response {
  const dialect = dialectOf(pathname);
  const known = PATTERNS.some((p) => p.test(pathname));
  const status = known ? 405 : 404;
  if (dialect === "ollama") return new Response(known ? "405 method not allowed" : "404 page not found", { status, headers: { "content-type": "text/plain" } });
  return errorResponse(dialect, status, known ? `${method} is not allowed on ${pathname}` : `no route for ${method} ${pathname}`);
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
  const decision = edgeDecision({ method: request.method, origin: request.headers.get("origin"), host: request.headers.get("host") ?? "" }, services.edge);
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

async function dispatch(route: string, def: RouteDef, request: Request, params: Record<string, string>, peer: () => string | undefined, services: Services, authorize: (header: string | null) => boolean): Promise<Response> {
  const started = performance.now();
  const given = request.headers.get("x-request-id");
  const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
  const url = new URL(request.url);
  let response: Response;
  try {
    const authorized = authorize(request.headers.get("authorization"));
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
  decorated(response, request);
  if (!response.headers.has("x-request-id")) response.headers.set("x-request-id", requestId);
  services.telemetry.http.inc({ route, method: request.method, status: String(response.status) });
  const level = def.public || route === "/metrics" || response.status === CLIENT_CLOSED_REQUEST ? "debug" : "info";
  if (services.log.enabled(level)) services.log[level]("request", { requestId, method: request.method, route, status: response.status, ms: Math.round((performance.now() - started) * 10) / 10, ip: peer() });
  return response;
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
  if (err instanceof HttpError) return errorResponse(dialect, err.status, err.message, err.field, err.headers);
  const sqlite = storageTrouble(err);
  if (sqlite) {
    services.log.error("database unavailable", { requestId, path: pathname, code: sqlite });
    return errorResponse(dialect, 503, `foreman cannot write to its database right now (${sqlite}); nothing was accepted — try again later`, undefined, { "retry-after": "5" });
  }
  services.log.error("unhandled error", { requestId, path: pathname, error: err instanceof Error ? err.stack ?? err.message : String(err) });
  return errorResponse(dialect, 500, "internal error; see foreman's log for request " + requestId);
}

export function createApp(services: Services) {
  const app = new Elysia();
  app.onRequest(({ request }) => edge(request, services));
  const { token } = services.config;
  const authorize = token === undefined ? () => true : bearerMatcher(token);
  for (const { method, path, def } of routes) {
    app.route(method, path, ({ request, params, server }) => dispatch(path, def, request, params as Record<string, string>, () => server?.requestIP(request)?.address, services, authorize), { parse: "none" });
  }
  app.onError(({ code, request }) => {
    const url = new URL(request.url);
    return decorated(code === "NOT_FOUND" ? unmatched(url.pathname, request.method) : errorResponse(dialectOf(url.pathname), 400, "bad request"), request);
  });
  return app;
}

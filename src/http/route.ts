// The shape of one route file: a TypeBox schema for what it accepts and a handler that
// gets typed values from that same schema. foreman reads bodies (body.ts) and validates them
// (app.ts), not Elysia, so that every error comes back in the caller's dialect and names the field.
import type { Static, TSchema } from "@sinclair/typebox";
import type { Services } from "./services.ts";

type Maybe<S extends TSchema | undefined> = S extends TSchema ? Static<S> : undefined;

export interface RouteContext<B extends TSchema | undefined, Q extends TSchema | undefined> {
  request: Request;
  url: URL;
  params: Record<string, string>;
  query: Maybe<Q>;
  body: Maybe<B>;
  services: Services;
  requestId: string;
  /** The peer's address, when the server knows it (looked up on demand). */
  peer(): string | undefined;
  /** Every registered route (for /openapi.json), handed in so no route imports the manifest. */
  routes: readonly RouteEntry[];
  /** The caller sent the foreman token, or none is configured: a public route may show it more. */
  authorized: boolean;
}

export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One row of the generated manifest: a route file registered at its method and path. */
export interface RouteEntry {
  method: Method;
  path: string;
  file: string;
  def: RouteDef;
}

export interface RouteDef<B extends TSchema | undefined = TSchema | undefined, Q extends TSchema | undefined = TSchema | undefined> {
  summary: string;
  tags?: string[];
  /** JSON body schema; when absent the body is not read (passthrough routes stream it on). */
  body?: B;
  query?: Q;
  /** Documented response schemas by status, for /openapi.json. */
  responses?: Record<number, { description: string; schema?: TSchema; contentType?: string }>;
  /** Health endpoints are reachable without FOREMAN_TOKEN. */
  public?: boolean;
  handle(ctx: RouteContext<B, Q>): Response | Promise<Response>;
}

export function defineRoute<B extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined>(def: RouteDef<B, Q>): RouteDef<B, Q> {
  return def;
}

export function json(value: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json", ...headers } });
}

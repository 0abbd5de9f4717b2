// The passthrough's routes (ADR 0037 §9): the edge defines them, hands the passthrough its narrow
// port, and words what comes back in the caller's dialect — a refusal is thrown as the edge's
// error, which app.ts maps once, as it does every route's. The passthrough itself knows no route,
// no dialect and no services bag.
import { kindOf } from "../../jobs/index.ts";
import { relayedKind } from "../../jobs/relayed.ts";
import { HttpError } from "../contract/http-error.ts";
import { directForwarder, type DirectOptions } from "../passthrough/direct.ts";
import { forwardPost } from "../passthrough/forward.ts";
import type { Answer, PassthroughPort } from "../passthrough/port.ts";
import { askQueued } from "../passthrough/relay.ts";
import { queueTranscription } from "../passthrough/transcription.ts";
import { readBody, spoolBody, streamBody } from "./body.ts";
import { CLIENT_CLOSED_REQUEST, dialectOf, HandlerError } from "./errors.ts";
import { defineRoute, type RouteContext, type RouteDef } from "./route.ts";
import type { Services } from "./services.ts";

const ports = new WeakMap<Services, PassthroughPort>();

/** The passthrough's port onto one running foreman: made once, on first use. */
function portOf(services: Services): PassthroughPort {
  let port = ports.get(services);
  if (!port) {
    const { queue, worker, poller, target, config, bodies, trustedProxies } = services;
    port = {
      queue,
      worker,
      poller,
      target,
      config,
      trustedProxies,
      bodies: {
        whole: (request) => readBody(request, config, bodies),
        stream: (request) => streamBody(request, config),
        spool: (request, path, onChunk) => spoolBody(request, config, path, onChunk),
      },
    };
    ports.set(services, port);
  }
  return port;
}

/** A passthrough answer as the caller's reply: a refusal in its dialect (Ollama's native one leaves out foreman's detail), 499 for a caller gone. */
function answered(answer: Answer, pathname: string): Response {
  switch (answer.kind) {
    case "reply":
      return answer.response;
    case "gone":
      return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    case "refused": {
      const { status, by, detail } = answer;
      const message = detail === undefined || dialectOf(pathname) === "ollama" ? answer.message : `${answer.message} (${detail})`;
      throw by === "handler" ? new HandlerError(status, message) : new HttpError(status, message);
    }
  }
}

type Handler = (port: PassthroughPort, ctx: RouteContext<undefined, undefined>) => Promise<Answer>;

function passthroughRoute(summary: string, handle: Handler, description?: string): RouteDef {
  return defineRoute({
    summary,
    tags: ["passthrough"],
    ...(description ? { responses: { 200: { description } } } : {}),
    handle: async (ctx: RouteContext<undefined, undefined>) => answered(await handle(portOf(ctx.services), ctx), ctx.url.pathname),
  });
}

/** A queued passthrough route for one inference endpoint. */
export function queuedPassthrough(endpoint: string): RouteDef {
  const kind = kindOf(endpoint);
  if (!kind) throw new Error(`no job kind for ${endpoint}`);
  return passthroughRoute(`${endpoint}, forwarded to the target through the queue (interactive lane)`, (port, ctx) => askQueued(port, ctx, kind), "the target's reply, streamed as it arrives");
}

/** Metadata and model management: straight to the target, not queued. */
export function directPassthrough(path?: string, opts: DirectOptions = {}): RouteDef {
  const forward = directForwarder(opts);
  return defineRoute({
    summary: `${path ?? "target route"}, forwarded to the target directly (not queued)`,
    tags: ["passthrough"],
    handle: (ctx: RouteContext<undefined, undefined>) => forward(portOf(ctx.services), ctx),
  });
}

/** POST to a path foreman has no route for: queued when its JSON body names a model, else straight to the target. */
export function forwardedPost(path: string): RouteDef {
  return passthroughRoute(`${path} not routed elsewhere: queued when its JSON body names a model (inference of a newer Ollama), else forwarded to the target directly`, forwardPost);
}

/** POST /v1/audio/transcriptions: a multipart upload, spooled, then queued (ADR 0031). */
export function queuedTranscription(endpoint: string): RouteDef {
  const kind = relayedKind(endpoint);
  return passthroughRoute(`${endpoint} (multipart), forwarded to the target through the queue (interactive lane)`, (port, ctx) => queueTranscription(port, ctx, kind), "the target's reply, as it gives it");
}

// The route table: which handler answers which METHOD /path, in which error
// dialect, plus gin's 404/405/trailing-slash behaviour for everything else.

import type { Call, SimContext } from "./context.ts";
import { ClientGone, type Dialect } from "./errors.ts";
import { embed, embeddings } from "./embed.ts";
import { errorResponse, methodNotAllowed, notFound, toSimError } from "./http.ts";
import { messages } from "./anthropic.ts";
import { createBlob, headBlob } from "./blobs.ts";
import { create } from "./create.ts";
import { copy, ps, pull, push, remove, root, show, tags, version } from "./models.ts";
import { chat, generate } from "./native.ts";
import { chatCompletions, completions, embeddingsV1, listModels, retrieveModel } from "./openai.ts";
import { responses } from "./responses.ts";
import { status, systemone, transcriptions } from "./newer.ts";

type Handler = (ctx: SimContext, req: Request, call: Call) => Response | Promise<Response>;

interface Route {
  /** Exact path, or a prefix ending in "/:" for one trailing parameter. */
  path: string;
  dialect: Dialect;
  methods: Partial<Record<string, Handler>>;
}

const ROUTES: Route[] = [
  { path: "/", dialect: "native", methods: { GET: root, HEAD: root } },
  { path: "/api/version", dialect: "native", methods: { GET: version, HEAD: version } },
  { path: "/api/status", dialect: "native", methods: { GET: status } },
  { path: "/api/tags", dialect: "native", methods: { GET: tags, HEAD: tags } },
  { path: "/api/ps", dialect: "native", methods: { GET: ps } },
  { path: "/api/show", dialect: "native", methods: { POST: show } },
  { path: "/api/chat", dialect: "native", methods: { POST: chat } },
  { path: "/api/generate", dialect: "native", methods: { POST: generate } },
  { path: "/api/embed", dialect: "native", methods: { POST: embed } },
  { path: "/api/embeddings", dialect: "native", methods: { POST: embeddings } },
  { path: "/api/pull", dialect: "native", methods: { POST: pull } },
  { path: "/api/push", dialect: "native", methods: { POST: push } },
  { path: "/api/create", dialect: "native", methods: { POST: create } },
  { path: "/api/blobs/:", dialect: "native", methods: { HEAD: (ctx, _req, call) => headBlob(ctx, call), POST: createBlob } },
  { path: "/api/copy", dialect: "native", methods: { POST: copy } },
  { path: "/api/delete", dialect: "native", methods: { DELETE: remove } },
  { path: "/v1/chat/completions", dialect: "openai", methods: { POST: chatCompletions } },
  { path: "/v1/completions", dialect: "openai", methods: { POST: completions } },
  { path: "/v1/embeddings", dialect: "openai", methods: { POST: embeddingsV1 } },
  { path: "/v1/models", dialect: "openai", methods: { GET: listModels } },
  { path: "/v1/models/:", dialect: "openai", methods: { GET: (ctx, _req, call) => retrieveModel(ctx, call.param) } },
  { path: "/v1/responses", dialect: "openai", methods: { POST: responses } },
  { path: "/v1/messages", dialect: "anthropic", methods: { POST: messages } },
  { path: "/v1/audio/transcriptions", dialect: "openai", methods: { POST: transcriptions } },
  { path: "/v1/systemone", dialect: "openai", methods: { POST: systemone } },
];

/** The route for a path and its parameter, if any. Pure. */
export function match(path: string): { route: Route; param: string } | null {
  for (const route of ROUTES) {
    if (route.path === path) return { route, param: "" };
    if (route.path.endsWith("/:")) {
      const prefix = route.path.slice(0, -1);
      const rest = path.slice(prefix.length);
      if (path.startsWith(prefix) && rest !== "" && !rest.includes("/")) return { route, param: decodeURIComponent(rest) };
    }
  }
  return null;
}

export async function route(ctx: SimContext, req: Request, call: Omit<Call, "param">): Promise<Response> {
  const path = new URL(req.url).pathname;
  const found = match(path);
  if (!found) {
    if (path.length > 1 && path.endsWith("/") && match(path.slice(0, -1))) {
      return new Response(null, { status: req.method === "GET" ? 301 : 307, headers: { Location: path.slice(0, -1) } });
    }
    return notFound();
  }
  const handler = found.route.methods[req.method];
  if (!handler) return methodNotAllowed();
  try {
    return await handler(ctx, req, { ...call, param: found.param });
  } catch (err) {
    if (err instanceof ClientGone) return new Response(null, { status: 499 });
    const simError = toSimError(err);
    return errorResponse(found.route.dialect, simError);
  }
}

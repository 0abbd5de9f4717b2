// The re-send rule for a request the target dropped before its first byte (a connection reset:
// what a crash or an out-of-memory kill of Ollama looks like from here). One reset can be bad
// luck — Ollama restarted between two requests — so the request is re-sent at once, keeping
// its place. A second reset of the same request is a pattern: it goes to the back of its lane,
// so the work behind it is served before it can take the target down again. A third ends it:
// the caller gets the cut as Ollama gave it, the job fails saying so (ADR 0030). Pure.

/** How many times one request is sent again after the target dropped it. */
export const MAX_RESENDS = 2;

export type AfterDrop = { kind: "head" } | { kind: "back" } | { kind: "give up"; message: string };

/** What happens to a request the target has now dropped `drops` times (this one included). */
export function afterDrop(drops: number): AfterDrop {
  if (drops > MAX_RESENDS) return { kind: "give up", message: `the target dropped the request before answering, ${drops} times (it may be what crashes the target); foreman does not send it again` };
  return drops === 1 ? { kind: "head" } : { kind: "back" };
}

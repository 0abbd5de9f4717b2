// Model names as Ollama resolves them: `[host/][namespace/]model[:tag]`,
// case-insensitive, tag `latest`, namespace `library`; parts of at most 80 characters (the
// host 350), as model.ParseName allows. Pure helpers.

export interface ModelName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

const PART = /^[a-z0-9][a-z0-9._-]*$/;

export function parseName(raw: string): ModelName | null {
  const lower = raw.trim().toLowerCase();
  if (lower === "") return null;
  const colon = lower.lastIndexOf(":");
  const slash = lower.lastIndexOf("/");
  const hasTag = colon > slash;
  const path = hasTag ? lower.slice(0, colon) : lower;
  const tag = hasTag ? lower.slice(colon + 1) : "latest";
  const parts = path.split("/");
  const model = parts.pop() ?? "";
  const namespace = parts.pop() ?? "library";
  const host = parts.pop() ?? "registry.ollama.ai";
  if (parts.length > 0) return null;
  if (![model, namespace, tag].every((p) => PART.test(p) && p.length <= 80) || !/^[a-z0-9][a-z0-9.:_-]*$/.test(host) || host.length > 350) return null;
  return { host, namespace, model, tag };
}

/** Unique key: the fully qualified lower-case name. */
export function nameKey(name: ModelName): string {
  return `${name.host}/${name.namespace}/${name.model}:${name.tag}`;
}

/** The shortest display form used by /api/tags, /api/ps and /v1/models. */
export function displayName(name: ModelName): string {
  const prefix =
    name.host !== "registry.ollama.ai" ? `${name.host}/${name.namespace}/` : name.namespace !== "library" ? `${name.namespace}/` : "";
  return `${prefix}${name.model}:${name.tag}`;
}

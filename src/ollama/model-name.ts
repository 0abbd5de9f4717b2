// Ollama accepts "llama3.2", "llama3.2:latest" and "LLAMA3.2" for the same model, and /api/ps
// reports the canonical display form. The queue and the scheduler compare models by this key.
export function modelKey(name: string): string {
  let n = name.trim().toLowerCase();
  for (const prefix of ["registry.ollama.ai/library/", "registry.ollama.ai/", "library/"]) {
    if (n.startsWith(prefix)) {
      n = n.slice(prefix.length);
      break;
    }
  }
  const lastSlash = n.lastIndexOf("/");
  const hasTag = n.indexOf(":", lastSlash + 1) !== -1;
  return hasTag ? n : `${n}:latest`;
}

/**
 * The parts of `name` as Ollama's model.ParseName splits it — `[host/][namespace/]model[:tag]`,
 * a scheme (`https://`) dropped first — or null when a part breaks its rules: letters, digits
 * and `_` first, then also `-` (`.` in the model and tag, `.:` in the host); at most 80
 * characters (350 for the host); no more than three path parts.
 */
function nameParts(name: string): { host: string; namespace: string; model: string; tag: string | null } | null {
  const raw = name.trim().replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, "");
  const colon = raw.lastIndexOf(":");
  const slash = raw.lastIndexOf("/");
  const tag = colon > slash ? raw.slice(colon + 1) : null;
  const path = (tag === null ? raw : raw.slice(0, colon)).split("/");
  if (path.length > 3) return null;
  const model = path.at(-1)!;
  const namespace = path.length >= 2 ? path.at(-2)! : "library";
  const host = path.length === 3 ? path[0]! : "registry.ollama.ai";
  const part = (s: string, extra: string, max: number) => s.length >= 1 && s.length <= max && new RegExp(`^[A-Za-z0-9_][A-Za-z0-9_${extra}-]*$`).test(s);
  const valid = part(host, ".:", 350) && part(namespace, "", 80) && part(model, ".", 80) && (tag === null || part(tag, ".", 80));
  return valid ? { host, namespace, model, tag } : null;
}

/** Whether Ollama takes `name` as a model name: otherwise it answers 400 `invalid model name`. */
export function validModelName(name: string): boolean {
  return nameParts(name) !== null;
}

/** Ollama's answer to a model name it cannot parse, whatever the endpoint. */
export const INVALID_MODEL_NAME = "invalid model name";

/**
 * Whether Ollama looks `name` up among the target's own models, and the name is one Ollama
 * accepts: then a model /api/tags does not list is its 404. Not so for a name with a source
 * suffix (`:cloud`, `-cloud`, `:local`: Ollama sends those to ollama.com or treats them apart)
 * or a scheme — those stay the target's to answer.
 */
export function looksUpLocally(name: string): boolean {
  if (name.includes("://")) return false;
  const parts = nameParts(name);
  return parts !== null && !(parts.tag !== null && /^(cloud|local)$|-cloud$/i.test(parts.tag));
}

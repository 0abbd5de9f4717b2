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
 * Whether Ollama looks `name` up among the target's own models, and the name is one Ollama
 * accepts (model.ParseName's rules, with the host, namespace and tag parts): then a model
 * /api/tags does not list is its 404. Not so for a name with a source suffix (`:cloud`,
 * `-cloud`, `:local`: Ollama sends those to ollama.com or treats them apart), a scheme, or any
 * part Ollama would refuse — those stay the target's to answer.
 */
export function looksUpLocally(name: string): boolean {
  const raw = name.trim();
  const colon = raw.lastIndexOf(":");
  const slash = raw.lastIndexOf("/");
  const tag = colon > slash ? raw.slice(colon + 1) : null;
  if (tag !== null && /^(cloud|local)$|-cloud$/i.test(tag.trim())) return false;
  if (raw.includes("://")) return false;
  const path = (tag === null ? raw : raw.slice(0, colon)).split("/");
  if (path.length > 3) return false;
  const model = path.at(-1)!;
  const namespace = path.length >= 2 ? path.at(-2)! : "library";
  const host = path.length === 3 ? path[0]! : "registry.ollama.ai";
  const part = (s: string, extra: string, max: number) => s.length >= 1 && s.length <= max && new RegExp(`^[A-Za-z0-9_][A-Za-z0-9_${extra}-]*$`).test(s);
  return part(host, ".:", 350) && part(namespace, "", 80) && part(model, ".", 80) && (tag === null || part(tag, ".", 80));
}

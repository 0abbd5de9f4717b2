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

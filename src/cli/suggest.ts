// "Did you mean …?": the closest of some names to one that was mistyped — a command, a model
// the target does not have. Pure.

/** Levenshtein distance: the edits (insert, delete, replace) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * The name closest to `word`, when it is close enough to be what was meant: a name that starts
 * with it (`llama3` for `llama3:8b`), else one within a third of its length in edits (at least 2).
 */
export function closest(word: string, names: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const prefixed = names.filter((n) => n.toLowerCase().startsWith(lower));
  if (prefixed.length) return prefixed.sort((a, b) => a.length - b.length)[0];
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

// Go's encoding/json writing, where JSON.stringify differs from it: HTML-safe
// string escapes, float32 written as Go writes float32, maps with sorted keys.
// Pure. (Reading, with Go's decoder errors, is src/ollama/go-json.ts: foreman's
// edge words its own errors the same way.)

/**
 * A value as Go's json.Marshal writes it. Plain objects are structs (keys in
 * insertion order, undefined skipped); a Map is a Go map (keys sorted); a
 * Float32Array is a []float32. Strings escape <, > and & (Go's default).
 */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return goString(value);
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  if (value instanceof Float32Array) return `[${Array.from(value, formatFloat32).join(",")}]`;
  if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
  if (value instanceof Map) {
    const keys = [...value.keys()].map(String).sort();
    return `{${keys.map((k) => `${goString(k)}:${goJson(value.get(k))}`).join(",")}}`;
  }
  const fields = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${fields.map(([k, v]) => `${goString(k)}:${goJson(v)}`).join(",")}}`;
}

/** A Go map for goJson: the same entries, written with sorted keys. Nested objects stay as they are. */
export const goMap = (fields: Record<string, unknown>): Map<string, unknown> => new Map(Object.entries(fields));

/** Decoded JSON as Go holds it in `any`: every object becomes a map, so it re-encodes with sorted keys. */
export function asGoAny(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asGoAny);
  if (typeof value === "object" && value !== null) return new Map(Object.entries(value).map(([k, v]) => [k, asGoAny(v)]));
  return value;
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;

function goString(text: string): string {
  // Go writes invalid UTF-16 (lone surrogates) as U+FFFD.
  return JSON.stringify(text.toWellFormed()).replace(HTML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The exact value of a float32 as mant × 2^exp, and how wide its rounding interval is below. */
function float32Parts(f: number): { mant: bigint; exp: number; narrowBelow: boolean } {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, Math.abs(f));
  const bits = view.getUint32(0);
  const expBits = bits >>> 23;
  const frac = bits & 0x7fffff;
  if (expBits === 0) return { mant: BigInt(frac), exp: -149, narrowBelow: false };
  return { mant: BigInt(frac | 0x800000), exp: expBits - 150, narrowBelow: frac === 0 && expBits > 1 };
}

/**
 * The shortest decimal digits that read back as the same float32 (ties to the
 * nearer, then even), as strconv's shortest formatting finds them: digits and
 * the exponent of the last digit. Exact arithmetic, no double rounding.
 */
export function shortestFloat32(f: number): { digits: string; exp10: number } {
  const { mant, exp, narrowBelow } = float32Parts(f);
  if (mant === 0n) return { digits: "0", exp10: 0 };
  const inclusive = mant % 2n === 0n;
  // Everything is scaled by 2^s2 · 10^s10 (chosen per precision) to stay integral.
  const p2 = (n: number): bigint => 2n ** BigInt(n);
  const p10 = (n: number): bigint => 10n ** BigInt(n);
  let e10 = Math.floor(Math.log10(Math.abs(f)));
  const v = (scale2: number, scale10: number): bigint => mant * p2(exp + scale2) * p10(scale10);
  const s2 = Math.max(0, 2 - exp);
  // Fix the float estimate of floor(log10(v)) with exact comparisons.
  const s10 = (q: number): number => Math.max(0, -q);
  while (v(s2, s10(e10)) < p2(s2) * p10(e10 + s10(e10))) e10--;
  while (v(s2, s10(e10 + 1)) >= p2(s2) * p10(e10 + 1 + s10(e10 + 1))) e10++;
  for (let precision = 1; precision <= 9; precision++) {
    const q = e10 - precision + 1;
    const t = s10(q);
    const value = v(s2, t);
    const halfBelow = p2(exp - (narrowBelow ? 2 : 1) + s2) * p10(t);
    const halfAbove = p2(exp - 1 + s2) * p10(t);
    const unit = p2(s2) * p10(q + t);
    const nearest = (2n * value + unit) / (2n * unit);
    let best: bigint | null = null;
    let bestDistance = 0n;
    for (const d of [nearest - 1n, nearest, nearest + 1n]) {
      if (d <= 0n) continue;
      const candidate = d * unit;
      const distance = candidate > value ? candidate - value : value - candidate;
      const limit = candidate > value ? halfAbove : halfBelow;
      if (distance > limit || (distance === limit && !inclusive)) continue;
      if (best === null || distance < bestDistance || (distance === bestDistance && d % 2n === 0n)) {
        best = d;
        bestDistance = distance;
      }
    }
    if (best !== null) {
      const digits = best.toString();
      const trimmed = digits.replace(/0+$/, "");
      return { digits: trimmed, exp10: q + digits.length - trimmed.length };
    }
  }
  throw new Error(`no shortest form for float32 ${f}`);
}

/** A float32 as encoding/json writes it: shortest digits, 'e' form below 1e-6 and from 1e21. */
export function formatFloat32(f: number): string {
  if (!Number.isFinite(f)) throw new Error(`json: unsupported value: ${f}`);
  const sign = f < 0 || Object.is(f, -0) ? "-" : "";
  const { digits, exp10 } = shortestFloat32(f);
  const abs = Math.fround(Math.abs(f));
  const point = digits.length + exp10;
  if (abs !== 0 && (abs < Math.fround(1e-6) || abs >= Math.fround(1e21))) {
    const e = point - 1;
    // Go writes at least two exponent digits, then trims "e-0X" to "e-X".
    const expText = e < 0 && e > -10 ? `-${-e}` : `${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
    return `${sign}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ""}e${expText}`;
  }
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

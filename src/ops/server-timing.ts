// The Server-Timing header (W3C): where a reply's time went — the queue, the model load, the
// target, foreman itself. One formatter for passthrough, direct and job replies.
export interface TimingPart {
  name: string;
  /** Milliseconds; parts without a duration are left out. */
  ms: number | undefined;
  desc?: string;
}

export function serverTiming(parts: readonly TimingPart[]): string {
  return parts
    .filter((p) => p.ms !== undefined)
    .map((p) => `${p.name};dur=${Math.max(0, Math.round(p.ms! * 10) / 10)}${p.desc ? `;desc="${p.desc}"` : ""}`)
    .join(", ");
}

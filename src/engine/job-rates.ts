// How long a job takes on the target, learnt from the jobs that finished: each model's first
// byte with and without a load, its generation speed, and the typical output length per model
// and endpoint (ADR 0038). Pure: the finished jobs' timings in, a duration per job out — null
// for a model foreman has not seen finish, rather than a made-up number.

import type { FinishedSample } from "../queue/heads.ts";

export type { FinishedSample } from "../queue/heads.ts";

interface Sum {
  n: number;
  total: number;
}

const add = (s: Sum | undefined, value: number): Sum => ({ n: (s?.n ?? 0) + 1, total: (s?.total ?? 0) + value });
const mean = (s: Sum | undefined): number | null => (s && s.n > 0 ? s.total / s.n : null);

interface ModelSums {
  warmFirstByte?: Sum;
  coldFirstByte?: Sum;
  tokens?: Sum;
  /** Generation time over tokens generated, across jobs that generated some: ms per token. */
  generationMs: number;
  generatedTokens: number;
  /** Generation time of jobs that generated no tokens (embeddings): their whole reply after the first byte. */
  plainGeneration?: Sum;
}

export interface JobRates {
  /** Expected milliseconds from sending the job to its end, loading its model first or not; null without history for the model. */
  duration(modelKey: string, endpoint: string, load: boolean): number | null;
  /** How many finished jobs the rates come from. */
  readonly samples: number;
}

/**
 * Means, not medians: a start time is the sum of the durations ahead, and the mean is what
 * makes a sum come out right (ADR 0038).
 */
export function learnRates(samples: readonly FinishedSample[]): JobRates {
  const models = new Map<string, ModelSums>();
  const tokensByEndpoint = new Map<string, Sum>();
  for (const s of samples) {
    let m = models.get(s.modelKey);
    if (!m) models.set(s.modelKey, (m = { generationMs: 0, generatedTokens: 0 }));
    if (s.loadMs === undefined) m.warmFirstByte = add(m.warmFirstByte, s.ttftMs);
    else m.coldFirstByte = add(m.coldFirstByte, s.ttftMs);
    const generation = Math.max(0, s.totalMs - s.ttftMs);
    if (s.tokens > 0) {
      m.generationMs += generation;
      m.generatedTokens += s.tokens;
    } else m.plainGeneration = add(m.plainGeneration, generation);
    m.tokens = add(m.tokens, s.tokens);
    const key = `${s.modelKey}\n${s.endpoint}`;
    tokensByEndpoint.set(key, add(tokensByEndpoint.get(key), s.tokens));
  }
  // what a load adds, on average over the models seen both ways: for a model never seen loading
  const extras = [...models.values()].flatMap((m) => {
    const cold = mean(m.coldFirstByte);
    const warm = mean(m.warmFirstByte);
    return cold !== null && warm !== null ? [Math.max(0, cold - warm)] : [];
  });
  const loadExtra = extras.length > 0 ? extras.reduce((a, b) => a + b, 0) / extras.length : 0;
  return {
    samples: samples.length,
    duration(modelKey, endpoint, load) {
      const m = models.get(modelKey);
      if (!m) return null;
      const cold = mean(m.coldFirstByte);
      const warm = mean(m.warmFirstByte);
      const firstByte = load ? (cold ?? warm! + loadExtra) : (warm ?? cold!);
      const tokens = mean(tokensByEndpoint.get(`${modelKey}\n${endpoint}`)) ?? mean(m.tokens)!;
      const generation = tokens > 0 && m.generatedTokens > 0 ? (tokens * m.generationMs) / m.generatedTokens : (mean(m.plainGeneration) ?? 0);
      return firstByte + generation;
    },
  };
}

// `foreman healthcheck`: the container's HEALTHCHECK (the image has no curl). Exit 0 when
// foreman answers /healthz within 3 s, 1 otherwise; nothing is printed.
import { baseUrlOf } from "./connection.ts";
import type { Handler } from "./spec.ts";

export const healthcheck: Handler = async ({ values }) => {
  try {
    const res = await fetch(`${baseUrlOf(values)}/healthz`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? 0 : 1;
  } catch {
    return 1;
  }
};

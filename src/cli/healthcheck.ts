// `foreman healthcheck`: the container's HEALTHCHECK (the image has no curl). Exit 0 when
// foreman answers /healthz within 3 s, 1 otherwise; nothing is printed.
import { defaultUrl } from "./connection.ts";
import type { Handler } from "./spec.ts";

export const healthcheck: Handler = async ({ values }) => {
  const url = typeof values.url === "string" && values.url ? values.url : defaultUrl();
  try {
    const res = await fetch(`${url.replace(/\/$/, "")}/healthz`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? 0 : 1;
  } catch {
    return 1;
  }
};

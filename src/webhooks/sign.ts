// Standard Webhooks signing (https://www.standardwebhooks.com/): HMAC-SHA256 over
// "<webhook-id>.<webhook-timestamp>.<body>" with the secret's bytes (base64 after "whsec_"),
// sent as "v1,<base64 signature>".
import { createHmac } from "node:crypto";

function secretKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ""), "base64");
}

export function signature(secret: string, id: string, timestamp: number, body: string): string {
  return "v1," + createHmac("sha256", secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
}

/** The headers of one delivery attempt; unsigned (no webhook-signature) when there is no secret. */
export function webhookHeaders(secret: string | undefined, id: string, timestamp: number, body: string): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "foreman-webhooks",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
  };
  if (secret) headers["webhook-signature"] = signature(secret, id, timestamp, body);
  return headers;
}

// What GET /usage groups finished work by (`by=`, ADR 0036): shared by the server, the CLI's
// completions and its clients.
export const USAGE_DIMENSIONS = ["model", "endpoint", "lane", "client", "tag"] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

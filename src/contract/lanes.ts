// The two lanes work waits in, by the names the API uses (GET /jobs?lane=, the job's `lane`):
// passthrough requests wait in the interactive lane, ahead of async jobs from POST /jobs.
export const LANE_NAMES = ["async", "interactive"] as const;
export type LaneName = (typeof LANE_NAMES)[number];

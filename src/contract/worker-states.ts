// The worker's states, as /status and the metrics name them: with work on the target it is in
// that work's state (`loading` or `working`, the job states' words), else idle or paused. API
// words, so they live with the other words of the contract.
export const WORKER_STATES = ["idle", "loading", "working", "paused"] as const;

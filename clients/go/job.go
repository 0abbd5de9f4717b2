// Package client is the Go client for foreman's job API: submit work, wait for it with
// long-polls, read its artifact, follow its events — standard library only.
//
// The types mirror the server's TypeBox schemas (src/queue/view.ts, src/queue/submit.ts);
// the tests run against a real foreman, so a drift between them fails there.
package client

import (
	"encoding/json"
	"time"
)

// Job states.
const (
	StatusQueued   = "queued"
	StatusLoading  = "loading"
	StatusWorking  = "working"
	StatusDone     = "done"
	StatusFailed   = "failed"
	StatusCanceled = "canceled"
)

// Lanes: async jobs (POST /jobs), and passthrough requests, which wait ahead of them.
const (
	LaneAsync       = "async"
	LaneInteractive = "interactive"
)

// Job is foreman's public job object (or a passthrough request's record, Lane interactive).
type Job struct {
	ID            string            `json:"id"`
	Status        string            `json:"status"`
	Lane          string            `json:"lane"`
	Endpoint      string            `json:"endpoint"`
	Model         string            `json:"model"`
	Priority      int               `json:"priority"`
	Metadata      map[string]any    `json:"metadata"`
	CreatedAt     time.Time         `json:"created_at"`
	StartedAt     *time.Time        `json:"started_at"`
	FinishedAt    *time.Time        `json:"finished_at"`
	Attempts      int               `json:"attempts"`
	QueuePosition *int              `json:"queue_position"`
	RequestID     *string           `json:"request_id"`
	RetryAt       *time.Time        `json:"retry_at"`
	Progress      Progress          `json:"progress"`
	Error         *JobFailure       `json:"error"`
	Timings       *Timings          `json:"timings"`
	Links         map[string]string `json:"links"`
	// Preemptible is false for a job submitted so: no passthrough request stops it.
	Preemptible bool `json:"preemptible"`
	// Preemptions counts the times a passthrough request stopped the job and sent it back to
	// the queue to run again from the start (not failures).
	Preemptions int `json:"preemptions"`
	// ETA says when a queued job should start and finish (QueuePosition counts in the same
	// order); nil when not queued or not known, and then ETAReason says why for a queued job
	// (ETANoHistory, ETABehindUnknown, ETABeyondHorizon).
	ETA       *ETA    `json:"eta"`
	ETAReason *string `json:"eta_reason"`
	// Reason is set in events and webhooks: why the job entered this state when foreman says
	// so — "preempted" (back to the queue for a passthrough request), "expired" (canceled: not
	// started by StartBy; the job view says it too), or a message.
	Reason string `json:"reason,omitempty"`
	// RunAfter is the scheduled start as submitted (kept once the job starts); nil: none. A
	// scheduled start still to come is here, not in RetryAt (which follows failed attempts).
	RunAfter *time.Time `json:"run_after"`
	// StartBy: a job not started by then ends canceled with Reason "expired"; nil: never.
	StartBy *time.Time `json:"start_by"`
	// MaxRun is the job's own run-time cap per attempt as a Go duration ("10m0s", "0s": no
	// cap; parse it with time.ParseDuration); nil: the server's default.
	MaxRun *string `json:"max_run"`
	// Usage is what the job cost, once it is done; nil before, and for work that did not end done.
	Usage *Usage `json:"usage"`
	// BatchID is the OpenAI batch the job is a line of, CustomID that line's custom_id; nil
	// for a job submitted on its own.
	BatchID  *string `json:"batch_id"`
	CustomID *string `json:"custom_id"`
}

// Terminal reports whether the job has ended (done, failed or canceled).
func (j *Job) Terminal() bool {
	return j.Status == StatusDone || j.Status == StatusFailed || j.Status == StatusCanceled
}

// ETA is foreman's estimate for a queued job, from the scheduler's order and the durations
// of the jobs that finished before.
type ETA struct {
	StartAt  time.Time `json:"start_at"`
	FinishAt time.Time `json:"finish_at"`
}

// Why a queued job has no ETA.
const (
	// ETANoHistory: no job of its model has finished yet.
	ETANoHistory = "no_history"
	// ETABehindUnknown: work ahead of it has no estimate.
	ETABehindUnknown = "behind_unknown"
	// ETABeyondHorizon: it is past the jobs foreman estimates (the first 1000 in the scheduler's order).
	ETABeyondHorizon = "beyond_horizon"
)

// Progress counts the output a job has produced so far.
type Progress struct {
	Chunks int `json:"chunks"`
	Tokens int `json:"tokens"`
}

// Timings says where a job's time went, in milliseconds; nil until the job was sent to the
// target, and a field stays zero until it is measured (LoadMs: only when the model was loaded).
type Timings struct {
	// QueueMs: entering the queue (the last time) to being sent to the target.
	QueueMs float64 `json:"queue_ms"`
	// LoadMs: the target loading the model, until its first byte.
	LoadMs float64 `json:"load_ms"`
	// TTFTMs: sent to the target to its first byte.
	TTFTMs float64 `json:"ttft_ms"`
	// TotalMs: sent to the target to the end of its reply.
	TotalMs float64 `json:"total_ms"`
}

// Usage is what a finished job cost: the target's own token counts and durations where its reply
// carried them, foreman's clock for the rest (ADR 0036). Times are milliseconds.
type Usage struct {
	UsageCounts
	// Estimated is true when the reply carried no token counts (a streamed /v1 reply whose client
	// asked for none): OutputTokens is foreman's count of stream messages, PromptTokens 0.
	Estimated bool `json:"estimated"`
}

// UsageCounts are the tokens and milliseconds of a job's usage, or their sums in a UsageRow.
type UsageCounts struct {
	PromptTokens int `json:"prompt_tokens"`
	OutputTokens int `json:"output_tokens"`
	LoadMs       int `json:"load_ms"`
	PromptEvalMs int `json:"prompt_eval_ms"`
	GenerationMs int `json:"generation_ms"`
	// TargetMs is the time the work held the target, by foreman's clock.
	TargetMs int `json:"target_ms"`
}

// Usage groupings for UsageFilter.By.
const (
	UsageByModel    = "model"
	UsageByEndpoint = "endpoint"
	UsageByLane     = "lane"
	UsageByClient   = "client"
	UsageByTag      = "tag"
)

// UsageFilter narrows GET /usage. Since and Until are RFC 3339 times or spans back from now
// ("90m", "24h", "7d", "2w"); empty means the server's defaults (24h, now). By is one of the
// UsageBy constants; empty means by model.
type UsageFilter struct {
	Since string
	Until string
	By    string
}

// UsageRow is one group's sums. Group is nil for work with no client or tag; a group with exact
// and estimated work has a row of each.
type UsageRow struct {
	Group     *string `json:"group"`
	Estimated bool    `json:"estimated"`
	Jobs      int     `json:"jobs"`
	UsageCounts
}

// UsageReport is GET /usage: sums over the whole hours from Since to Until.
type UsageReport struct {
	By    string     `json:"by"`
	Since time.Time  `json:"since"`
	Until time.Time  `json:"until"`
	Rows  []UsageRow `json:"rows"`
}

// JobFailure is why a job failed: the target's (or foreman's) message and HTTP status.
type JobFailure struct {
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// Submission is the body of POST /jobs.
type Submission struct {
	// Endpoint is the target endpoint; empty means /api/chat.
	Endpoint string `json:"endpoint,omitempty"`
	// Request is the target's request body (a map or a struct); it must name a model.
	Request  any            `json:"request"`
	Webhook  *Webhook       `json:"webhook,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	// Priority: higher runs first within a model (-1000..1000).
	Priority int `json:"priority,omitempty"`
	// Preemptible set to false keeps passthrough requests from stopping the job to run first
	// (nil: preemptible, the server's default).
	Preemptible *bool `json:"preemptible,omitempty"`
	// RunAfter: the job does not start before this; Within(d) or At(t) (empty: now).
	RunAfter string `json:"run_after,omitempty"`
	// StartBy: not started by then, the job never starts (canceled, Reason "expired"); Within(d) or At(t).
	StartBy string `json:"start_by,omitempty"`
	// MaxRun caps each attempt from the target's first byte: d.String() of a time.Duration
	// ("10m0s"; "0s" lifts the server's default cap). At the cap the job fails, not retried.
	MaxRun string `json:"max_run,omitempty"`
}

// Within is a RunAfter or StartBy that long from now, as the server reads it.
func Within(d time.Duration) string {
	return d.String()
}

// At is a RunAfter or StartBy at a point in time (RFC 3339).
func At(t time.Time) string {
	return t.Format(time.RFC3339Nano)
}

// Webhook is where foreman posts the job's state changes; nil Events means all of them.
type Webhook struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

// ListFilter narrows GET /jobs; Cursor is the NextCursor of the previous page. Lane
// LaneInteractive lists passthrough requests instead of jobs.
type ListFilter struct {
	Lane   string
	Status string
	Model  string
	// Batch lists only the lines of this batch (a batch_… id).
	Batch  string
	Limit  int
	Cursor string
}

// JobList is one page of GET /jobs.
type JobList struct {
	Jobs       []Job   `json:"jobs"`
	NextCursor *string `json:"next_cursor"`
}

// Artifact is a finished job's result, in the target's non-streamed response shape.
type Artifact struct {
	Job         *Job
	ContentType string
	Body        []byte
}

// Decode unmarshals a JSON artifact into v.
func (a *Artifact) Decode(v any) error {
	return json.Unmarshal(a.Body, v)
}

// Event is one event of GET /jobs/{id}/events: a state change (Type "job.<status>", Job
// set) or live output (Type "job.progress", Progress set).
type Event struct {
	ID       string
	Type     string
	Job      *Job
	Progress *LiveProgress
	Data     json.RawMessage
}

// LiveProgress is the data of a job.progress event. Offset is where Text starts in the job's
// output, in characters (runes): the first event a subscriber gets mid-job has all the text so
// far, at offset 0.
type LiveProgress struct {
	Text   string `json:"text"`
	Chunks int    `json:"chunks"`
	Tokens int    `json:"tokens"`
	Offset int    `json:"offset"`
}

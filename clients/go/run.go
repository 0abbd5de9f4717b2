package client

// Run: the synchronous facade. One idempotency key per call, so a retried submit can never
// make a second job; then long-polls until the job ends, retrying dropped connections with
// back-off. The context bounds the whole wait; when it ends first the job is left as it is
// (queued or running, not canceled) and the error says so. See docs/adr/0009.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"
)

const maxWaitSeconds = 300

// RunOption configures Run.
type RunOption func(*runOptions)

type runOptions struct{ key string }

// WithIdempotencyKey uses key instead of a fresh random one (to resume a run after a crash).
func WithIdempotencyKey(key string) RunOption { return func(o *runOptions) { o.key = key } }

// Run submits the job and waits for it. It returns the artifact when the job is done; a
// *JobError (errors.Is ErrJobFailed / ErrJobCanceled / ErrJobTimeout) when it failed, was
// canceled, or ctx's deadline came first; an *HTTPError when foreman refused the submission.
func (c *Client) Run(ctx context.Context, sub Submission, options ...RunOption) (*Artifact, error) {
	o := runOptions{key: randomKey()}
	for _, opt := range options {
		opt(&o)
	}
	var job *Job
	err := retry(ctx, func() (err error) {
		job, err = c.Submit(ctx, sub, SubmitOptions{IdempotencyKey: o.key})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("foreman: job not submitted (a retry with Idempotency-Key %s cannot make a second one): %w", o.key, err)
	}
	if job, err = c.Wait(ctx, job.ID); err != nil {
		return nil, err
	}
	switch job.Status {
	case StatusFailed:
		return nil, &JobError{Job: job, Err: ErrJobFailed}
	case StatusCanceled:
		return nil, &JobError{Job: job, Err: ErrJobCanceled}
	}
	var artifact *Artifact
	err = retry(ctx, func() (err error) {
		artifact, err = c.Artifact(ctx, job.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	artifact.Job = job
	return artifact, nil
}

// Wait long-polls until the job ends and returns it as it ended (done, failed or canceled).
// When ctx ends first it returns a *JobError with the job's last known state.
func (c *Client) Wait(ctx context.Context, id string) (*Job, error) {
	job := &Job{ID: id, Status: StatusQueued}
	for first := true; first || !job.Terminal(); first = false {
		var next *Job
		err := retry(ctx, func() (err error) {
			next, err = c.Get(ctx, id, waitSeconds(ctx, first))
			return err
		})
		if ctx.Err() != nil {
			return nil, c.stopped(ctx, job)
		}
		if err != nil {
			return nil, err
		}
		job = next
	}
	return job, nil
}

// stopped is the error for a wait that ctx ended: the job's freshest state, not canceled.
func (c *Client) stopped(ctx context.Context, job *Job) error {
	brief, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if fresh, err := c.Get(brief, job.ID, 0); err == nil {
		job = fresh
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &JobError{Job: job, Err: ErrJobTimeout}
	}
	return &JobError{Job: job, Err: ctx.Err()}
}

// waitSeconds is the ?wait= for the next long-poll: what is left of ctx, 1..300 s; none for
// the first call, which only reads the job.
func waitSeconds(ctx context.Context, first bool) int {
	if first {
		return 0
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return maxWaitSeconds
	}
	s := int(math.Ceil(time.Until(deadline).Seconds()))
	if s < 1 {
		return 1
	}
	if s > maxWaitSeconds {
		return maxWaitSeconds
	}
	return s
}

// retry calls f until it succeeds, ctx ends, or it fails with an error that retrying cannot
// fix (any *HTTPError but 429/502/503/504). Connection errors are retried with back-off.
func retry(ctx context.Context, f func() error) error {
	for n := 0; ; n++ {
		err := f()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
		timer := time.NewTimer(backoff(n))
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
}

func transient(err error) bool {
	var h *HTTPError
	if errors.As(err, &h) {
		return h.Status == http.StatusTooManyRequests || h.Status == http.StatusBadGateway || h.Status == http.StatusServiceUnavailable || h.Status == http.StatusGatewayTimeout
	}
	var syntax *json.SyntaxError
	var mistyped *json.UnmarshalTypeError
	return !errors.As(err, &syntax) && !errors.As(err, &mistyped) // transport errors: refused, reset, EOF mid-body
}

func backoff(n int) time.Duration {
	if n > 5 {
		n = 5
	}
	d := 200 * time.Millisecond << n
	if d > 5*time.Second {
		d = 5 * time.Second
	}
	return d
}

func randomKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

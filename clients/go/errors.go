package client

// Errors are values to branch on: *HTTPError when foreman answered 4xx/5xx, *JobError
// (with the job) when a job ended badly or the wait ended first. Use errors.Is with the
// sentinels and errors.As to get the job.

import (
	"context"
	"errors"
	"fmt"
)

var (
	// ErrJobFailed: the job ended failed; JobError.Job.Error says why.
	ErrJobFailed = errors.New("job failed")
	// ErrJobCanceled: the job ended canceled.
	ErrJobCanceled = errors.New("job canceled")
	// ErrJobTimeout: the context's deadline passed first. The job was not canceled; the
	// JobError that wraps it says so.
	ErrJobTimeout = errors.New("timed out waiting for the job")
)

// HTTPError is an answer foreman gave with a 4xx/5xx status; Field is the JSON pointer of
// the offending field when foreman named one.
type HTTPError struct {
	Status  int
	Message string
	Field   string
}

func (e *HTTPError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("foreman: HTTP %d: %s (%s)", e.Status, e.Message, e.Field)
	}
	return fmt.Sprintf("foreman: HTTP %d: %s", e.Status, e.Message)
}

// JobError is a job that did not end done, or a wait that ended before the job did. Err is
// ErrJobFailed, ErrJobCanceled, ErrJobTimeout, or context.Canceled when the caller gave up.
type JobError struct {
	Job *Job
	Err error
}

func (e *JobError) Error() string {
	switch {
	case e.Err == ErrJobFailed && e.Job.Error != nil:
		return fmt.Sprintf("foreman: job %s failed (%d): %s", e.Job.ID, e.Job.Error.Status, e.Job.Error.Message)
	case e.Err == ErrJobTimeout, e.Err == context.Canceled:
		return fmt.Sprintf("foreman: job %s is still %s: %v (it was not canceled)", e.Job.ID, e.Job.Status, e.Err)
	default:
		return fmt.Sprintf("foreman: job %s: %v", e.Job.ID, e.Err)
	}
}

func (e *JobError) Unwrap() error { return e.Err }

// Is makes a timeout also match context.DeadlineExceeded.
func (e *JobError) Is(target error) bool {
	return e.Err == ErrJobTimeout && target == context.DeadlineExceeded
}

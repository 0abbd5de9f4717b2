package client

import (
	"context"
	"strings"
	"testing"
)

// Each message says once what happened to the job, and that a wait that ended did not cancel it.
func TestJobErrorMessagesReadOnce(t *testing.T) {
	job := &Job{ID: "01J", Status: StatusQueued}
	for _, tc := range []struct {
		err  *JobError
		want string
	}{
		{&JobError{Job: job, Err: ErrJobTimeout}, "foreman: job 01J is still queued: timed out waiting for the job (it was not canceled)"},
		{&JobError{Job: job, Err: context.Canceled}, "foreman: job 01J is still queued: context canceled (it was not canceled)"},
		{&JobError{Job: &Job{ID: "01J", Status: StatusFailed, Error: &JobFailure{Status: 404, Message: "model not found"}}, Err: ErrJobFailed}, "foreman: job 01J failed (404): model not found"},
		{&JobError{Job: &Job{ID: "01J", Status: StatusCanceled}, Err: ErrJobCanceled}, "foreman: job 01J: job canceled"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
		if n := strings.Count(tc.err.Error(), "not canceled"); n > 1 {
			t.Errorf("%q says \"not canceled\" %d times", tc.err.Error(), n)
		}
	}
}

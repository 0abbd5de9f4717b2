package client

// OpenAI batches through foreman (ADR 0039): upload a JSONL file of lines — from memory or a
// file, streamed, never held whole — create its batch, wait for it with progress, and read its
// output and error files back as results joined to each line's custom_id.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// BatchLine is one line of a batch's input file.
type BatchLine struct {
	CustomID string `json:"custom_id"`
	Method   string `json:"method"`
	URL      string `json:"url"`
	Body     any    `json:"body"`
}

// Batch is an OpenAI batch as foreman serves it (times are Unix seconds).
type Batch struct {
	ID               string            `json:"id"`
	Status           string            `json:"status"`
	Endpoint         string            `json:"endpoint"`
	InputFileID      string            `json:"input_file_id"`
	CompletionWindow string            `json:"completion_window"`
	OutputFileID     *string           `json:"output_file_id"`
	ErrorFileID      *string           `json:"error_file_id"`
	Errors           *BatchErrors      `json:"errors"`
	CreatedAt        int64             `json:"created_at"`
	ExpiresAt        *int64            `json:"expires_at"`
	CompletedAt      *int64            `json:"completed_at"`
	RequestCounts    BatchCounts       `json:"request_counts"`
	Metadata         map[string]string `json:"metadata"`
	// Model is the model every line names, when they all name one.
	Model *string `json:"model"`
}

// BatchCounts: the lines in all, and those ended each way so far.
type BatchCounts struct {
	Total     int `json:"total"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
}

// BatchErrors names the bad lines of an invalid input file (the batch ends "failed").
type BatchErrors struct {
	Data []struct {
		Code    string  `json:"code"`
		Message string  `json:"message"`
		Param   *string `json:"param"`
		Line    *int    `json:"line"`
	} `json:"data"`
}

// Ended reports whether the batch has ended: completed, failed, expired or cancelled.
func (b *Batch) Ended() bool {
	switch b.Status {
	case "completed", "failed", "expired", "cancelled":
		return true
	}
	return false
}

// BatchOptions: Endpoint every line names (default /v1/chat/completions), CompletionWindow
// (default 24h; foreman also takes a Go duration or days), Metadata (up to 16 pairs; foreman
// reads "webhook_url", the batch's own webhook, and "line_webhooks", "true" or a comma-separated
// list of job events for each line's own job webhooks), and the uploaded file's name (default
// batch.jsonl).
type BatchOptions struct {
	Endpoint         string
	CompletionWindow string
	Metadata         map[string]string
	Filename         string
}

// BatchPage is one page of GET /v1/batches, newest first; pass LastID as after for the next.
type BatchPage struct {
	Data    []Batch `json:"data"`
	HasMore bool    `json:"has_more"`
	LastID  *string `json:"last_id"`
}

// BatchResult is one line's result: from the output file (OK, a 2xx) or the error file.
type BatchResult struct {
	CustomID string
	OK       bool
	// StatusCode is the endpoint's HTTP status; 0 when the line got no reply (Error says why).
	StatusCode int
	// Body is the endpoint's reply (its error body when not OK), or nil.
	Body json.RawMessage
	// Error says why a line got no reply (batch_cancelled, batch_expired, …); nil otherwise.
	Error *BatchLineError
}

// BatchLineError is why a line got no reply.
type BatchLineError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrBatchWaitTimeout: the context's deadline passed before the batch ended; it goes on.
var ErrBatchWaitTimeout = errors.New("foreman: the batch did not end in time; it goes on and was not cancelled")

// SubmitBatchLines uploads the lines as a JSONL file and creates their batch.
func (c *Client) SubmitBatchLines(ctx context.Context, lines []BatchLine, opts BatchOptions) (*Batch, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, line := range lines {
		if err := enc.Encode(line); err != nil {
			return nil, err
		}
	}
	return c.SubmitBatch(ctx, &buf, opts)
}

// SubmitBatch uploads a JSONL document (an *os.File, or any reader) with POST /v1/files,
// streamed, then creates its batch with POST /v1/batches.
func (c *Client) SubmitBatch(ctx context.Context, jsonl io.Reader, opts BatchOptions) (*Batch, error) {
	fileID, err := c.uploadBatchFile(ctx, jsonl, opts.Filename)
	if err != nil {
		return nil, err
	}
	create := map[string]any{"input_file_id": fileID, "endpoint": opts.Endpoint, "completion_window": opts.CompletionWindow}
	if opts.Endpoint == "" {
		create["endpoint"] = "/v1/chat/completions"
	}
	if opts.CompletionWindow == "" {
		create["completion_window"] = "24h"
	}
	if opts.Metadata != nil {
		create["metadata"] = opts.Metadata
	}
	body, err := json.Marshal(create)
	if err != nil {
		return nil, err
	}
	var batch Batch
	return &batch, c.doJSON(ctx, http.MethodPost, "/v1/batches", http.Header{"Content-Type": {"application/json"}}, body, &batch)
}

func (c *Client) uploadBatchFile(ctx context.Context, jsonl io.Reader, filename string) (string, error) {
	if filename == "" {
		filename = "batch.jsonl"
	}
	pr, pw := io.Pipe()
	form := multipart.NewWriter(pw)
	go func() {
		err := form.WriteField("purpose", "batch")
		if err == nil {
			var part io.Writer
			if part, err = form.CreateFormFile("file", filename); err == nil {
				if _, err = io.Copy(part, jsonl); err == nil {
					err = form.Close()
				}
			}
		}
		pw.CloseWithError(err)
	}()
	res, err := c.send(ctx, http.MethodPost, "/v1/files", http.Header{"Content-Type": {form.FormDataContentType()}}, pr)
	if err != nil {
		pr.CloseWithError(err)
		return "", err
	}
	defer res.Body.Close()
	var file struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&file); err != nil {
		return "", fmt.Errorf("foreman: unexpected reply to POST /v1/files: %w", err)
	}
	return file.ID, nil
}

func batchPath(id string) string { return "/v1/batches/" + url.PathEscape(id) }

// GetBatch returns the batch as it stands (GET /v1/batches/{id}).
func (c *Client) GetBatch(ctx context.Context, id string) (*Batch, error) {
	var batch Batch
	return &batch, c.doJSON(ctx, http.MethodGet, batchPath(id), nil, nil, &batch)
}

// CancelBatch cancels the batch: lines not yet run are cancelled, finished ones kept.
func (c *Client) CancelBatch(ctx context.Context, id string) (*Batch, error) {
	var batch Batch
	return &batch, c.doJSON(ctx, http.MethodPost, batchPath(id)+"/cancel", nil, nil, &batch)
}

// ListBatches returns one page of batches, newest first (limit 0: the server's 20).
func (c *Client) ListBatches(ctx context.Context, after string, limit int) (*BatchPage, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var page BatchPage
	return &page, c.doJSON(ctx, http.MethodGet, withQuery("/v1/batches", q), nil, nil, &page)
}

// WaitBatch polls the batch every interval (0: a second) until it ends, calling progress (if
// not nil) with each poll's batch. The context bounds the wait: past its deadline the error
// is ErrBatchWaitTimeout (the batch goes on); cancelled, the context's error.
func (c *Client) WaitBatch(ctx context.Context, id string, interval time.Duration, progress func(*Batch)) (*Batch, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		batch, err := c.GetBatch(ctx, id)
		if err != nil {
			return nil, waitError(ctx, err)
		}
		if progress != nil {
			progress(batch)
		}
		if batch.Ended() {
			return batch, nil
		}
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return batch, waitError(ctx, ctx.Err())
		case <-timer.C:
		}
	}
}

func waitError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrBatchWaitTimeout
	}
	return err
}

// EachBatchResult calls fn with every line's result of an ended batch — its output file's,
// then its error file's — read as a stream; order is not the input's (join on CustomID).
// An error from fn stops the walk and is returned.
func (c *Client) EachBatchResult(ctx context.Context, batch *Batch, fn func(BatchResult) error) error {
	for _, fileID := range []*string{batch.OutputFileID, batch.ErrorFileID} {
		if fileID == nil {
			continue
		}
		if err := c.eachLine(ctx, *fileID, fn); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) eachLine(ctx context.Context, fileID string, fn func(BatchResult) error) error {
	res, err := c.do(ctx, http.MethodGet, "/v1/files/"+url.PathEscape(fileID)+"/content", nil, nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	lines.Buffer(make([]byte, 64*1024), 64<<20)
	for lines.Scan() {
		if len(bytes.TrimSpace(lines.Bytes())) == 0 {
			continue
		}
		var line struct {
			CustomID string `json:"custom_id"`
			Response *struct {
				StatusCode int             `json:"status_code"`
				Body       json.RawMessage `json:"body"`
			} `json:"response"`
			Error *BatchLineError `json:"error"`
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			return fmt.Errorf("foreman: a line of file %s is not JSON: %w", fileID, err)
		}
		result := BatchResult{CustomID: line.CustomID, Error: line.Error}
		if line.Response != nil {
			result.StatusCode, result.Body = line.Response.StatusCode, line.Response.Body
			result.OK = result.StatusCode >= 200 && result.StatusCode < 300
		}
		if err := fn(result); err != nil {
			return err
		}
	}
	return lines.Err()
}

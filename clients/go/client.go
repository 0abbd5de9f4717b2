package client

// Client: one method per HTTP exchange of the job API. Transport failures come back as
// they are (net/url errors); foreman's 4xx/5xx answers as *HTTPError.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client talks to one foreman. The zero value is not usable; call New.
type Client struct {
	baseURL string
	token   string
	http    *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithToken sends FOREMAN_TOKEN as a bearer token.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient uses hc instead of a default client. It must not time out long-polls
// (leave Timeout zero; contexts bound each call).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// New returns a client for the foreman at baseURL (e.g. http://127.0.0.1:8080).
func New(baseURL string, options ...Option) *Client {
	c := &Client{baseURL: strings.TrimRight(baseURL, "/"), http: &http.Client{}}
	for _, o := range options {
		o(c)
	}
	return c
}

// SubmitOptions: IdempotencyKey makes a repeated submission return the same job; Wait (seconds)
// asks foreman to hold the reply until the job ends (Prefer: wait).
type SubmitOptions struct {
	IdempotencyKey string
	Wait           int
}

// Submit queues a job (POST /jobs).
func (c *Client) Submit(ctx context.Context, sub Submission, opts SubmitOptions) (*Job, error) {
	body, err := json.Marshal(sub)
	if err != nil {
		return nil, err
	}
	header := http.Header{"Content-Type": {"application/json"}}
	if opts.IdempotencyKey != "" {
		header.Set("Idempotency-Key", opts.IdempotencyKey)
	}
	if opts.Wait > 0 {
		header.Set("Prefer", "wait="+strconv.Itoa(opts.Wait))
	}
	var job Job
	return &job, c.doJSON(ctx, http.MethodPost, "/jobs", header, body, &job)
}

// Get returns the job; wait > 0 long-polls up to wait seconds (≤ 300) for it to end.
func (c *Client) Get(ctx context.Context, id string, wait int) (*Job, error) {
	path := jobPath(id)
	if wait > 0 {
		path += "?wait=" + strconv.Itoa(wait)
	}
	var job Job
	return &job, c.doJSON(ctx, http.MethodGet, path, nil, nil, &job)
}

// List returns one page of jobs (GET /jobs).
func (c *Client) List(ctx context.Context, filter ListFilter) (*JobList, error) {
	q := url.Values{}
	for k, v := range map[string]string{"lane": filter.Lane, "status": filter.Status, "model": filter.Model, "batch": filter.Batch, "cursor": filter.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if filter.Limit > 0 {
		q.Set("limit", strconv.Itoa(filter.Limit))
	}
	var list JobList
	return &list, c.doJSON(ctx, http.MethodGet, withQuery("/jobs", q), nil, nil, &list)
}

// Usage returns what finished work cost over a span, one row per group (GET /usage).
func (c *Client) Usage(ctx context.Context, filter UsageFilter) (*UsageReport, error) {
	q := url.Values{}
	for k, v := range map[string]string{"since": filter.Since, "until": filter.Until, "by": filter.By} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var report UsageReport
	return &report, c.doJSON(ctx, http.MethodGet, withQuery("/usage", q), nil, nil, &report)
}

// withQuery is path with q as its query string, if q has any values.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Cancel cancels a queued or running job; the job comes back canceled, or still stopping.
func (c *Client) Cancel(ctx context.Context, id string) (*Job, error) {
	var job Job
	return &job, c.doJSON(ctx, http.MethodPost, jobPath(id)+"/cancel", nil, nil, &job)
}

// Artifact returns a done job's result (404 *HTTPError until then).
func (c *Client) Artifact(ctx context.Context, id string) (*Artifact, error) {
	res, err := c.do(ctx, http.MethodGet, jobPath(id)+"/artifact", nil, nil)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &Artifact{ContentType: res.Header.Get("Content-Type"), Body: body}, nil
}

func jobPath(id string) string { return "/jobs/" + url.PathEscape(id) }

// do sends one request; a non-2xx answer is read into *HTTPError.
func (c *Client) do(ctx context.Context, method, path string, header http.Header, body []byte) (*http.Response, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	return c.send(ctx, method, path, header, reader)
}

// send is do with the body as a stream (an upload that is never held whole in memory).
func (c *Client) send(ctx context.Context, method, path string, header http.Header, reader io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, reader)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 400 {
		defer res.Body.Close()
		return nil, httpError(res)
	}
	return res, nil
}

func (c *Client) doJSON(ctx context.Context, method, path string, header http.Header, body []byte, out any) error {
	res, err := c.do(ctx, method, path, header, body)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("foreman: unexpected reply to %s %s: %w", method, path, err)
	}
	return nil
}

// httpError reads foreman's {"error":{"status","message","field"}} (or Ollama's {"error":"…"}).
func httpError(res *http.Response) *HTTPError {
	data, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	e := &HTTPError{Status: res.StatusCode, Message: strings.TrimSpace(string(data))}
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil && len(body.Error) > 0 {
		var text string
		var obj struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		}
		if json.Unmarshal(body.Error, &text) == nil {
			e.Message = text
		} else if json.Unmarshal(body.Error, &obj) == nil && obj.Message != "" {
			e.Message, e.Field = obj.Message, obj.Field
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(res.StatusCode)
	}
	return e
}

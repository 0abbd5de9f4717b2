package client

// These tests run against a real foreman (with its built-in simulator as the target),
// started as a child process: bun ../../src/main.ts serve --port 0 --target sim.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	foremanURL string
	simURL     string
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "foreman-go-test-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		stop, err := startForeman(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cannot start foreman:", err)
			return 1
		}
		defer stop()
		return m.Run()
	}())
}

func bunPath() string {
	if p := os.Getenv("FOREMAN_BUN"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "node_modules", ".bin", "bun")
}

// startForeman runs foreman and reads the simulator's and foreman's URLs from its JSON log.
func startForeman(dir string) (stop func(), err error) {
	cmd := exec.Command(bunPath(), filepath.Join("..", "..", "src", "main.ts"), "serve",
		"--port", "0", "--host", "127.0.0.1", "--target", "sim", "--db", filepath.Join(dir, "foreman.db"),
		"--poll-interval-ms", "100", "--max-attempts", "2", "--retry-base-ms", "50", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	lines := bufio.NewScanner(stderr)
	var seen strings.Builder
	for foremanURL == "" && lines.Scan() {
		seen.WriteString(lines.Text() + "\n")
		var entry struct{ Msg, URL string }
		if json.Unmarshal(lines.Bytes(), &entry) != nil {
			continue
		}
		switch entry.Msg {
		case "built-in simulator started":
			simURL = entry.URL
		case "foreman listening":
			foremanURL = entry.URL
		}
	}
	if foremanURL == "" || simURL == "" {
		stop()
		return nil, fmt.Errorf("no URLs in foreman's log:\n%s", seen.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	return stop, nil
}

// setFaults flips the simulator's fault switches through its control API.
func setFaults(t *testing.T, faults map[string]any) {
	t.Helper()
	body, _ := json.Marshal(faults)
	res, err := http.Post(simURL+"/_sim/faults", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	t.Cleanup(func() {
		body, _ := json.Marshal(map[string]any{"firstByteDelayMs": 0})
		if res, err := http.Post(simURL+"/_sim/faults", "application/json", bytes.NewReader(body)); err == nil {
			res.Body.Close()
		}
	})
}

func chat(model string) Submission {
	return Submission{Request: map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": "hi"}}}}
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestRunReturnsTheArtifact(t *testing.T) {
	c := New(foremanURL)
	artifact, err := c.Run(timeout(t, time.Minute), chat("llama3.2"))
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Message struct{ Role, Content string }
		Done    bool
	}
	if err := artifact.Decode(&reply); err != nil {
		t.Fatal(err)
	}
	if !reply.Done || reply.Message.Role != "assistant" || reply.Message.Content == "" {
		t.Fatalf("unexpected artifact %s", artifact.Body)
	}
	if artifact.Job.Status != StatusDone || !strings.HasPrefix(artifact.ContentType, "application/json") {
		t.Fatalf("job %+v, content type %q", artifact.Job, artifact.ContentType)
	}
	if tm := artifact.Job.Timings; tm == nil || tm.TotalMs <= 0 || tm.TotalMs < tm.TTFTMs {
		t.Fatalf("timings %+v", tm)
	}
}

func TestRunUnknownModelIsJobFailed(t *testing.T) {
	_, err := New(foremanURL).Run(timeout(t, time.Minute), chat("no-such-model"))
	if !errors.Is(err, ErrJobFailed) {
		t.Fatalf("want ErrJobFailed, got %v", err)
	}
	var jobErr *JobError
	if !errors.As(err, &jobErr) || jobErr.Job.Status != StatusFailed || jobErr.Job.Error == nil || jobErr.Job.Error.Status != 404 {
		t.Fatalf("want the failed job with the target's 404, got %+v", jobErr)
	}
	if !strings.Contains(err.Error(), "not found") {
		t.Fatalf("message %q lacks the target's", err)
	}
}

func TestRunTimeoutLeavesTheJob(t *testing.T) {
	setFaults(t, map[string]any{"firstByteDelayMs": 3000})
	c := New(foremanURL)
	_, err := c.Run(timeout(t, 300*time.Millisecond), chat("llama3.2"))
	if !errors.Is(err, ErrJobTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ErrJobTimeout, got %v", err)
	}
	var jobErr *JobError
	if !errors.As(err, &jobErr) || !strings.Contains(err.Error(), "not canceled") {
		t.Fatalf("want a JobError saying the job was not canceled, got %v", err)
	}
	job, err := c.Get(timeout(t, time.Minute), jobErr.Job.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status == StatusCanceled || job.Status == StatusFailed {
		t.Fatalf("the job should still be there, not %s", job.Status)
	}
	if _, err := c.Cancel(timeout(t, time.Minute), job.ID); err != nil {
		t.Fatal(err)
	}
	if job, err = c.Wait(timeout(t, time.Minute), job.ID); err != nil || job.Status != StatusCanceled {
		t.Fatalf("cancel: %+v %v", job, err)
	}
}

func TestRunCallerCancelIsNotATimeout(t *testing.T) {
	setFaults(t, map[string]any{"firstByteDelayMs": 2000})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	c := New(foremanURL)
	_, err := c.Run(ctx, chat("llama3.2"))
	var jobErr *JobError
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrJobTimeout) || !errors.As(err, &jobErr) {
		t.Fatalf("want context.Canceled with the job, got %v", err)
	}
	if _, err := c.Cancel(timeout(t, time.Minute), jobErr.Job.ID); err != nil {
		t.Fatal(err)
	}
}

// proxy forwards TCP to foreman and cuts the first connection whose request matches, 200 ms
// after the request went through — a dropped connection in the middle of a long-poll.
type proxy struct {
	url  string
	cuts atomic.Int32
	seen atomic.Int32
}

func startProxy(t *testing.T, target string, cut *regexp.Regexp) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &proxy{url: "http://" + ln.Addr().String()}
	host := strings.TrimPrefix(target, "http://")
	var once sync.Once
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			upstream, err := net.Dial("tcp", host)
			if err != nil {
				client.Close()
				continue
			}
			drop := func() { client.Close(); upstream.Close() }
			go func() { _, _ = io.Copy(client, upstream); drop() }()
			go func() {
				buf := make([]byte, 64*1024)
				for {
					n, err := client.Read(buf)
					if n > 0 {
						if bytes.HasPrefix(buf[:n], []byte("POST /jobs ")) {
							p.seen.Add(1)
						}
						if cut.Match(buf[:n]) {
							once.Do(func() {
								p.cuts.Add(1)
								time.AfterFunc(200*time.Millisecond, drop)
							})
						}
						if _, werr := upstream.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				drop()
			}()
		}
	}()
	return p
}

func TestRunSurvivesADroppedLongPoll(t *testing.T) {
	setFaults(t, map[string]any{"firstByteDelayMs": 1500})
	p := startProxy(t, foremanURL, regexp.MustCompile(`^GET /jobs/[^ ]+\?wait=`))
	key := randomKey()
	sub := chat("llama3.2")
	sub.Metadata = map[string]any{"run": key}
	artifact, err := New(p.url).Run(timeout(t, time.Minute), sub, WithIdempotencyKey(key))
	if err != nil {
		t.Fatal(err)
	}
	if p.cuts.Load() != 1 {
		t.Fatalf("the long-poll was not cut (%d cuts)", p.cuts.Load())
	}
	if p.seen.Load() != 1 {
		t.Fatalf("want one submission, saw %d", p.seen.Load())
	}
	// the key still names the one job the run made
	again, err := New(foremanURL).Submit(timeout(t, time.Minute), sub, SubmitOptions{IdempotencyKey: key})
	if err != nil || again.ID != artifact.Job.ID {
		t.Fatalf("replay gave %+v, %v; want job %s", again, err, artifact.Job.ID)
	}
	assertOneJobFor(t, key, artifact.Job)
}

// assertOneJobFor counts, through GET /jobs, the jobs whose metadata carries the run's marker.
func assertOneJobFor(t *testing.T, marker string, job *Job) {
	t.Helper()
	list, err := New(foremanURL).List(timeout(t, time.Minute), ListFilter{Model: job.Model, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range list.Jobs {
		if j.Metadata["run"] == marker {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("want one job for run %s, found %d", marker, n)
	}
}

func TestSubmitGetCancelArtifact(t *testing.T) {
	c := New(foremanURL)
	ctx := timeout(t, time.Minute)
	preemptible := false
	job, err := c.Submit(ctx, Submission{Endpoint: "/api/generate", Request: map[string]any{"model": "llama3.2", "prompt": "hello"}, Metadata: map[string]any{"ticket": 7.0}, Priority: 3, Preemptible: &preemptible}, SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Endpoint != "/api/generate" || job.Priority != 3 || job.Metadata["ticket"] != 7.0 || job.Lane != LaneAsync || job.RequestID == nil || job.Preemptible || job.Preemptions != 0 {
		t.Fatalf("unexpected job %+v", job)
	}
	if job, err = c.Get(ctx, job.ID, 60); err != nil || job.Status != StatusDone {
		t.Fatalf("get with wait: %+v %v", job, err)
	}
	artifact, err := c.Artifact(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reply struct{ Response string }
	if err := artifact.Decode(&reply); err != nil || reply.Response == "" {
		t.Fatalf("artifact %s: %v", artifact.Body, err)
	}
	_, err = c.Cancel(ctx, job.ID)
	var h *HTTPError
	if !errors.As(err, &h) || h.Status != http.StatusConflict {
		t.Fatalf("cancel of a done job: want 409, got %v", err)
	}
}

func TestScheduledStartExpiryAndRunCap(t *testing.T) {
	c := New(foremanURL)
	ctx := timeout(t, time.Minute)
	runAfter := time.Now().Add(time.Hour).Truncate(time.Second)
	sub := chat("llama3.2")
	sub.RunAfter, sub.StartBy, sub.MaxRun = At(runAfter), Within(2*time.Hour), (10 * time.Minute).String()
	job, err := c.Submit(ctx, sub, SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.RunAfter == nil || !job.RunAfter.Equal(runAfter) || job.StartBy == nil || job.MaxRun == nil || *job.MaxRun != "10m0s" || job.RetryAt != nil {
		t.Fatalf("unexpected schedule %+v", job)
	}
	if d, err := time.ParseDuration(*job.MaxRun); err != nil || d != 10*time.Minute {
		t.Fatalf("max_run %q: %v", *job.MaxRun, err)
	}
	if _, err := c.Cancel(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	// a looping model holds the worker: a job whose start_by comes meanwhile expires unstarted
	setFaults(t, map[string]any{"endless": true})
	t.Cleanup(func() { setFaults(t, map[string]any{"endless": false}) })
	looping, err := c.Submit(ctx, chat("llama3.2"), SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = c.Cancel(ctx, looping.ID) }()
	sub = chat("llama3.2")
	sub.StartBy = Within(300 * time.Millisecond)
	if job, err = c.Submit(ctx, sub, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if job, err = c.Get(ctx, job.ID, 30); err != nil || job.Status != StatusCanceled || job.Reason != "expired" || job.StartedAt != nil {
		t.Fatalf("want canceled/expired, got %+v %v", job, err)
	}
	var h *HTTPError
	bad := chat("llama3.2")
	bad.MaxRun = "ten minutes"
	if _, err = c.Submit(ctx, bad, SubmitOptions{}); !errors.As(err, &h) || h.Status != http.StatusBadRequest || h.Field != "/max_run" {
		t.Fatalf("want a 400 naming /max_run, got %#v", err)
	}
}

func TestHTTPErrorsCarryStatusMessageAndField(t *testing.T) {
	c := New(foremanURL)
	ctx := timeout(t, time.Minute)
	_, err := c.Submit(ctx, Submission{Request: map[string]any{}}, SubmitOptions{})
	var h *HTTPError
	if !errors.As(err, &h) || h.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(h.Field, "/request") {
		t.Fatalf("want a 422 naming /request…, got %#v", err)
	}
	if _, err = c.Submit(ctx, chat("llama3.2"), SubmitOptions{IdempotencyKey: "go-same"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Submit(ctx, chat("mistral"), SubmitOptions{IdempotencyKey: "go-same"})
	if !errors.As(err, &h) || h.Status != http.StatusUnprocessableEntity {
		t.Fatalf("want 422, got %v", err)
	}
	_, err = c.Get(ctx, "no-such-job", 0)
	if !errors.As(err, &h) || h.Status != http.StatusNotFound {
		t.Fatalf("want 404, got %v", err)
	}
}

func TestParseSSE(t *testing.T) {
	stream := "id: 1\nevent: job.queued\ndata: {\"id\":\"j\",\"status\":\"queued\"}\n\n: keep-alive\n\nretry: 100\r\nid: 2\r\nevent: job.progress\r\ndata: {\"text\":\"hi\",\r\ndata: \"chunks\":1,\"tokens\":1}\r\n\r\nevent: other\ndata: x\n\n"
	var got []Event
	_, err := parseSSE(strings.NewReader(stream), func(raw sseEvent) (bool, error) {
		e, ok, err := toEvent(raw)
		if ok {
			got = append(got, e)
		}
		return false, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "1" || got[0].Job.Status != StatusQueued || got[1].ID != "2" || got[1].Progress.Text != "hi" {
		t.Fatalf("parsed %+v", got)
	}
}

func TestEventsResumeWithLastEventID(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Last-Event-Id"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		if r.Header.Get("Last-Event-Id") == "" {
			// dropped before the job ends, in the middle of event 3
			fmt.Fprint(w, "retry: 10\nid: 1\nevent: job.queued\ndata: {\"id\":\"j1\",\"status\":\"queued\"}\n\nid: 2\nevent: job.progress\ndata: {\"text\":\"hé\",\"chunks\":1,\"tokens\":1,\"offset\":0}\n\nid: 3\nevent: job.prog")
			return
		}
		// re-opened mid-job: the text so far first (offset 0), then what comes next
		fmt.Fprint(w, "event: job.progress\ndata: {\"text\":\"héllo\",\"chunks\":2,\"tokens\":2,\"offset\":0}\n\nevent: job.progress\ndata: {\"text\":\"!\",\"chunks\":3,\"tokens\":3,\"offset\":5}\n\nid: 4\nevent: job.done\ndata: {\"id\":\"j1\",\"status\":\"done\"}\n\nid: 5\nevent: job.never\ndata: {}\n\n")
	}))
	defer stub.Close()
	var got []string
	err := New(stub.URL).Events(timeout(t, time.Minute), "j1", "", func(e Event) error {
		if e.Progress != nil {
			got = append(got, fmt.Sprintf("%s %s %q@%d", e.ID, e.Type, e.Progress.Text, e.Progress.Offset))
		} else {
			got = append(got, e.ID+" "+e.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// the text once: the re-opened stream's text so far is cut to what fn has not had
	if want := `1 job.queued,2 job.progress "hé"@0, job.progress "llo"@2, job.progress "!"@5,4 job.done`; strings.Join(got, ",") != want {
		t.Fatalf("events %v, want %s", got, want)
	}
	if strings.Join(seen, ",") != ",2" {
		t.Fatalf("Last-Event-ID sent: %q", seen)
	}
}

func TestEventsFromForeman(t *testing.T) {
	c := New(foremanURL)
	ctx := timeout(t, time.Minute)
	job, err := c.Submit(ctx, chat("llama3.2"), SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	err = c.Events(ctx, job.ID, "", func(e Event) error {
		if e.Job != nil {
			states = append(states, e.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(states) < 2 || states[0] != "job.queued" || states[len(states)-1] != "job.done" {
		t.Fatalf("states %v", states)
	}
}

func TestListInteractiveLane(t *testing.T) {
	list, err := New(foremanURL).List(timeout(t, time.Minute), ListFilter{Lane: LaneInteractive})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range list.Jobs {
		if j.Lane != LaneInteractive {
			t.Fatalf("lane %q in an interactive listing: %+v", j.Lane, j)
		}
	}
	if _, err := New(foremanURL).List(timeout(t, time.Minute), ListFilter{Lane: "bogus"}); err == nil || !strings.Contains(err.Error(), "expected one of async, interactive") {
		t.Fatalf("want a 400 naming the lanes, got %v", err)
	}
}

func TestUsageOfADoneJobAndByTag(t *testing.T) {
	c := New(foremanURL)
	ctx := timeout(t, time.Minute)
	job, err := c.Submit(ctx, Submission{Endpoint: "/api/generate", Request: map[string]any{"model": "llama3.2", "prompt": "count me", "options": map[string]any{"num_predict": 4}}, Metadata: map[string]any{"tag": "go-usage"}}, SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job, err = c.Get(ctx, job.ID, 60); err != nil || job.Status != StatusDone {
		t.Fatalf("get with wait: %+v %v", job, err)
	}
	artifact, err := c.Artifact(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		PromptEvalCount int `json:"prompt_eval_count"`
		EvalCount       int `json:"eval_count"`
	}
	if err := artifact.Decode(&reply); err != nil {
		t.Fatal(err)
	}
	u := job.Usage
	if u == nil || u.Estimated || u.PromptTokens != reply.PromptEvalCount || u.OutputTokens != reply.EvalCount || u.OutputTokens != 4 {
		t.Fatalf("usage %+v, reply %+v", u, reply)
	}
	report, err := c.Usage(ctx, UsageFilter{Since: "1h", By: UsageByTag})
	if err != nil {
		t.Fatal(err)
	}
	var tagged *UsageRow
	for i, r := range report.Rows {
		if r.Group != nil && *r.Group == "go-usage" {
			tagged = &report.Rows[i]
		}
	}
	if report.By != UsageByTag || tagged == nil || tagged.Jobs != 1 || tagged.OutputTokens != 4 || tagged.PromptTokens != reply.PromptEvalCount || report.Until.Before(report.Since) {
		t.Fatalf("report %+v", report)
	}
	var h *HTTPError
	if _, err := c.Usage(ctx, UsageFilter{Since: "yesterday"}); !errors.As(err, &h) || h.Status != http.StatusBadRequest || !strings.Contains(h.Message, "since") {
		t.Fatalf("want a 400 naming since, got %v", err)
	}
}

func TestQueuedJobsShowPositionAndETA(t *testing.T) {
	c := New(foremanURL)
	// history: a job of the model that finished
	if _, err := c.Run(timeout(t, time.Minute), chat("llama3.2")); err != nil {
		t.Fatal(err)
	}
	// the worker busy with a job that waits for its first byte, two behind it
	setFaults(t, map[string]any{"firstByteDelayMs": 3000})
	blocker, err := c.Submit(timeout(t, time.Minute), chat("llama3.2"), SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if j, err := c.Get(timeout(t, time.Minute), blocker.ID, 0); err == nil && j.Status != StatusQueued {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("waiting for the first job to start: %+v %v", j, err)
		}
	}
	known, err := c.Submit(timeout(t, time.Minute), chat("llama3.2"), SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unseen, err := c.Submit(timeout(t, time.Minute), chat("gemma2:2b"), SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, id := range []string{blocker.ID, known.ID, unseen.ID} {
			_, _ = c.Cancel(context.Background(), id)
		}
	})
	first, err := c.Get(timeout(t, time.Minute), known.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if first.QueuePosition == nil || *first.QueuePosition != 0 || first.ETA == nil || first.ETAReason != nil || first.ETA.FinishAt.Before(first.ETA.StartAt) {
		t.Fatalf("the next job: want position 0 and an ETA, got %+v (eta %+v)", first, first.ETA)
	}
	second, err := c.Get(timeout(t, time.Minute), unseen.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if second.QueuePosition == nil || *second.QueuePosition != 1 || second.ETA != nil || second.ETAReason == nil || *second.ETAReason != ETANoHistory {
		t.Fatalf("a model without history: want position 1, no ETA and %q, got %+v", ETANoHistory, second)
	}
}

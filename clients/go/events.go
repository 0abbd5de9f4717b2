package client

// Events: GET /jobs/{id}/events (Server-Sent Events), re-opened with Last-Event-ID after a
// dropped connection so each event arrives once, in order, until the terminal one, and the
// generated text once: the text so far a re-opened stream starts with is cut to what fn has not
// had (by each progress event's Offset).

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Events calls fn for each event of the job, starting after lastEventID ("" = from the
// start). It returns nil after the job's terminal event, fn's error if fn returns one, the
// *HTTPError if foreman refuses the stream, or ctx's error.
func (c *Client) Events(ctx context.Context, id, lastEventID string, fn func(Event) error) error {
	var retryDelay time.Duration
	// runes of the current run's text handed to fn; a run back in the queue starts again
	seen := 0
	for n := 0; ; n++ {
		header := http.Header{"Accept": {"text/event-stream"}}
		if lastEventID != "" {
			header.Set("Last-Event-Id", lastEventID)
		}
		res, err := c.do(ctx, http.MethodGet, jobPath(id)+"/events", header, nil)
		if err != nil && !transient(err) {
			return err
		}
		if err == nil {
			ended, err := parseSSE(res.Body, func(raw sseEvent) (bool, error) {
				n = 0
				if raw.retry > 0 {
					retryDelay = time.Duration(raw.retry) * time.Millisecond
				}
				if raw.id != "" {
					lastEventID = raw.id
				}
				event, ok, err := toEvent(raw)
				if err != nil || !ok {
					return false, err
				}
				if p := event.Progress; p != nil {
					p.Text, p.Offset = unseen(p.Text, p.Offset, seen)
					seen = p.Offset + utf8.RuneCountInString(p.Text)
				} else if event.Type == "job.queued" {
					seen = 0
				}
				if err := fn(event); err != nil {
					return true, err
				}
				return event.Job != nil && event.Job.Terminal(), nil
			})
			res.Body.Close()
			if ended || (err != nil && !transient(err)) {
				return err
			}
		}
		delay := retryDelay
		if delay == 0 {
			delay = backoff(n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// unseen is what of text, starting at rune offset of the output, comes after the first seen
// runes, and where that starts.
func unseen(text string, offset, seen int) (string, int) {
	if offset >= seen {
		return text, offset
	}
	runes := []rune(text)
	if skip := seen - offset; skip < len(runes) {
		return string(runes[skip:]), seen
	}
	return "", seen
}

type sseEvent struct {
	id, event, data string
	hasData         bool
	retry           int
}

// toEvent turns a wire event into an Event; ok is false for events this client does not know.
func toEvent(raw sseEvent) (event Event, ok bool, err error) {
	if !raw.hasData || !strings.HasPrefix(raw.event, "job.") {
		return event, false, nil
	}
	event = Event{ID: raw.id, Type: raw.event, Data: json.RawMessage(raw.data)}
	if raw.event == "job.progress" {
		event.Progress = &LiveProgress{}
		err = json.Unmarshal(event.Data, event.Progress)
	} else {
		event.Job = &Job{}
		err = json.Unmarshal(event.Data, event.Job)
	}
	return event, err == nil, err
}

// parseSSE reads events from r and hands each to emit until r ends or emit says stop.
func parseSSE(r io.Reader, emit func(sseEvent) (stop bool, err error)) (stopped bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 8<<20)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			if len(data) > 0 || ev.id != "" || ev.event != "" || ev.retry > 0 {
				ev.data, ev.hasData = strings.Join(data, "\n"), len(data) > 0
				if stop, err := emit(ev); stop || err != nil {
					return stop, err
				}
			}
			ev, data = sseEvent{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			data = append(data, value)
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil {
				ev.retry = ms
			}
		}
	}
	return false, sc.Err()
}

package client

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

func chatLine(id, model string) BatchLine {
	return BatchLine{CustomID: id, Method: "POST", URL: "/v1/chat/completions", Body: map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": "say " + id}}}}
}

// A batch from lines in memory, followed with progress to its end, its results joined to their
// custom_id (a failing line in the error file), its lines listed as jobs with batch_id/custom_id.
func TestBatchFromLinesWaitAndResults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := New(foremanURL)
	batch, err := c.SubmitBatchLines(ctx, []BatchLine{chatLine("a", "llama3.2"), chatLine("b", "llama3.2"), chatLine("bad", "no-such-model")}, BatchOptions{Metadata: map[string]string{"run": "go"}})
	if err != nil {
		t.Fatal(err)
	}
	if batch.Endpoint != "/v1/chat/completions" || batch.CompletionWindow != "24h" || batch.Metadata["run"] != "go" {
		t.Fatalf("created batch: %+v", batch)
	}
	polls := 0
	ended, err := c.WaitBatch(ctx, batch.ID, 20*time.Millisecond, func(*Batch) { polls++ })
	if err != nil {
		t.Fatal(err)
	}
	if ended.Status != "completed" || ended.RequestCounts != (BatchCounts{Total: 3, Completed: 2, Failed: 1}) || polls == 0 {
		t.Fatalf("ended: %+v after %d polls", ended, polls)
	}
	results := map[string]BatchResult{}
	if err := c.EachBatchResult(ctx, ended, func(r BatchResult) error { results[r.CustomID] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 || !results["a"].OK || results["a"].StatusCode != 200 || results["bad"].OK || results["bad"].StatusCode != 404 {
		t.Fatalf("results: %+v", results)
	}
	var reply struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(results["b"].Body, &reply); err != nil || len(reply.Choices) != 1 || reply.Choices[0].Message.Content == "" {
		t.Fatalf("b's body %s: %v", results["b"].Body, err)
	}
	list, err := c.List(ctx, ListFilter{Batch: batch.ID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range list.Jobs {
		if j.BatchID == nil || *j.BatchID != batch.ID || j.CustomID == nil {
			t.Fatalf("a line without its batch: %+v", j)
		}
		ids = append(ids, *j.CustomID)
	}
	sort.Strings(ids)
	if len(ids) != 3 || ids[0] != "a" || ids[1] != "b" || ids[2] != "bad" {
		t.Fatalf("lines as jobs: %v", ids)
	}
	page, err := c.ListBatches(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range page.Data {
		found = found || b.ID == batch.ID
	}
	if !found {
		t.Fatalf("batch %s not listed", batch.ID)
	}
}

// A batch from a file (streamed), a wait that runs out (the batch goes on), then cancelled.
func TestBatchFromFileTimeoutAndCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	setFaults(t, map[string]any{"firstByteDelayMs": 200}) // the lines outlast the cancel
	path := filepath.Join(t.TempDir(), "many.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for i := 0; i < 40; i++ {
		if err := enc.Encode(chatLine("l"+string(rune('A'+i)), "llama3.2")); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	c := New(foremanURL)
	batch, err := c.SubmitBatch(ctx, in, BatchOptions{Filename: "many.jsonl", CompletionWindow: "2h"})
	if err != nil {
		t.Fatal(err)
	}
	short, stop := context.WithTimeout(ctx, time.Nanosecond)
	defer stop()
	<-short.Done()
	if _, err := c.WaitBatch(short, batch.ID, 0, nil); !errors.Is(err, ErrBatchWaitTimeout) {
		t.Fatalf("a wait past its deadline: %v", err)
	}
	if _, err := c.CancelBatch(ctx, batch.ID); err != nil {
		t.Fatal(err)
	}
	ended, err := c.WaitBatch(ctx, batch.ID, 20*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Status != "cancelled" || ended.RequestCounts.Total != 40 {
		t.Fatalf("ended: %+v", ended)
	}
	// an unknown batch is foreman's 404
	var he *HTTPError
	if _, err := c.GetBatch(ctx, "batch_nope"); !errors.As(err, &he) || he.Status != 404 {
		t.Fatalf("unknown batch: %v", err)
	}
}

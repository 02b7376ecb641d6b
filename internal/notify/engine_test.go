package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/notify"
)

var pageID = regexp.MustCompile(`slack-\d+|hook`)

// Slack pages queued behind Slack's rate limit hold no worker: with two
// workers and ten Slack pages ahead of it, a webhook page still goes out
// at once, and every Slack page is delivered once, at its turn.
func TestHeldBackSendsHoldNoWorker(t *testing.T) {
	d := dbtest.SQLite(t)
	var mu sync.Mutex
	at := map[string]time.Time{}
	count := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Slack's payload has no delivery id; the title (the id) is in it.
		b, _ := io.ReadAll(r.Body)
		id := pageID.FindString(string(b))
		mu.Lock()
		count[id]++
		if count[id] == 1 {
			at[id] = time.Now()
		}
		mu.Unlock()
	}))
	defer srv.Close()

	const every = 150 * time.Millisecond
	s := notify.NewSender(notify.SMTP{}, map[string]notify.Limit{notify.Slack: {Every: every, Burst: 1}})
	s.MaxWait = 20 * time.Millisecond
	e := engine.New(d, clock.System{}, nil, nil)
	e.Workers, e.PollInterval = 2, 20*time.Millisecond
	e.Register("page", func(ctx context.Context, j engine.Job) error {
		var p struct{ Type, ID string }
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			return engine.Permanent(err)
		}
		return s.Send(ctx, notify.Channel{Type: p.Type, URL: srv.URL}, notify.Message{DeliveryID: p.ID, Title: p.ID, Event: "test"})
	})
	ctx := context.Background()
	start := time.Now()
	err := d.InTx(ctx, func(tx *db.Tx) error {
		for i := 0; i < 10; i++ {
			id := fmt.Sprintf("slack-%d", i)
			if _, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: "page", Key: id, RunAt: start.Add(time.Duration(i) * time.Millisecond),
				Payload: map[string]string{"type": notify.Slack, "id": id}}); err != nil {
				return err
			}
		}
		_, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: "page", Key: "hook", RunAt: start.Add(time.Second / 10),
			Payload: map[string]string{"type": notify.Webhook, "id": "hook"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(rctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(count)
		mu.Unlock()
		if n == 11 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 11 pages delivered: %v", n, count)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range count {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	// Ten Slack pages take nine intervals; the webhook page is not behind them.
	if hook := at["hook"].Sub(start); hook > 4*every {
		t.Errorf("the webhook page went out %s after the start, behind the Slack queue", hook)
	}
	last := at["slack-9"].Sub(start)
	if last < 9*every-50*time.Millisecond {
		t.Errorf("the tenth Slack page went out %s after the start: faster than the rate limit", last)
	}
	// The last delivery reached the receiver just before its job was
	// recorded done: wait (bounded) for the record.
	var jobs []engine.Info
	for {
		jobs, err = e.List(ctx, engine.Filter{State: engine.StateDone})
		if err != nil || len(jobs) == 11 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || len(jobs) != 11 {
		t.Fatalf("done jobs: %d, %v", len(jobs), err)
	}
	for _, j := range jobs {
		if j.Attempts != 1 {
			t.Errorf("%s: %d attempts, want 1 (waiting for a turn is not an attempt)", j.Key, j.Attempts)
		}
	}
}

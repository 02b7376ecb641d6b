package incident_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
)

// TestCrashAfterProviderAccepted shows the decision documented in
// docs/oncall.md for the one ambiguous case: the provider accepted a page
// and tandem died before recording it. tandem cannot know whether the
// message went out, so it sends it again once the crashed worker's lease
// has expired — at least once, never lost — with the same delivery id
// (X-Tandem-Delivery, the email Message-ID) so a receiver can drop the
// repeat.
//
// The crash is simulated by the receiver closing the first process's
// database while it answers 200: the page is accepted, but nothing after
// it can be written, exactly as after a kill -9 at that instant.
func TestCrashAfterProviderAccepted(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() *db.DB {
		d, err := db.Open(ctx, db.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	clk := clock.NewFake(t0)
	var (
		mu        sync.Mutex
		delivered []string
		crash     func()
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m notify.Message
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		delivered = append(delivered, r.Header.Get("X-Tandem-Delivery"))
		c := crash
		crash = nil
		mu.Unlock()
		if c != nil {
			c() // the process dies while the provider says 200
		}
	}))
	defer rcv.Close()
	dirs := staticDirs{devSRE(rcv.URL, 0)}

	// Process 1 opens the incident and dies inside the first page.
	d1 := open()
	e1 := engine.New(d1, clk, nil, nil)
	m1 := incident.NewManager(d1, clk, nil, e1, notify.NewSender(notify.SMTP{}, nil))
	m1.Directories = dirs
	inc, err := m1.Open(ctx, incident.OpenInput{Title: "checkout down", Services: []string{"checkout"}, Severity: "sev1"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	crash = func() { d1.Close() }
	mu.Unlock()
	_, _ = e1.RunDue(ctx) // errors: its database is gone mid-run
	if len(delivered) != 1 {
		t.Fatalf("deliveries before the crash: %v", delivered)
	}

	// Process 2 starts on the same database. Within the lease it leaves
	// the page alone (the first process might still be alive and sending).
	d2 := open()
	defer d2.Close()
	e2 := engine.New(d2, clk, nil, nil)
	m2 := incident.NewManager(d2, clk, nil, e2, notify.NewSender(notify.SMTP{}, nil))
	m2.Directories = dirs
	if _, err := e2.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if len(delivered) != 1 {
		t.Fatalf("resent within the lease: %v", delivered)
	}
	// After the lease the page goes out again, with the same delivery id.
	clk.Advance(e2.JobTimeout + 15*time.Second)
	if _, err := e2.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if len(delivered) != 2 || delivered[0] != delivered[1] || delivered[0] == "" {
		t.Fatalf("deliveries %v, want the same delivery id twice", delivered)
	}
	jobs, _ := e2.List(ctx, engine.Filter{Kind: "incident.page"})
	if len(jobs) != 1 || jobs[0].State != engine.StateDone || jobs[0].Attempts != 2 {
		t.Fatalf("page job %+v, want done after 2 attempts", jobs)
	}
	tl, _ := m2.Timeline(ctx, inc.ID)
	var pages int
	for _, e := range tl {
		if e.Kind == incident.EvPage {
			pages++
		}
	}
	if pages != 1 { // the first attempt's record died with the process
		t.Fatalf("timeline page records %d, want 1", pages)
	}
}

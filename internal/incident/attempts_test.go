package incident_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
)

// delivery is one request the flaky receiver answered.
type delivery struct {
	To       string
	Delivery string // X-Tandem-Delivery
	Status   int
}

// flakyReceiver is a webhook endpoint that answers 500 to its first fails
// requests and 200 after, and records every request with its answer.
type flakyReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	fails int
	got   []delivery
}

func newFlakyReceiver(t testing.TB, fails int) *flakyReceiver {
	r := &flakyReceiver{fails: fails}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("flaky receiver: bad body %q: %v", body, err)
		}
		r.mu.Lock()
		status := http.StatusOK
		if len(r.got) < r.fails {
			status = http.StatusInternalServerError
		}
		r.got = append(r.got, delivery{To: m.Recipient, Delivery: req.Header.Get("X-Tandem-Delivery"), Status: status})
		r.mu.Unlock()
		if status != http.StatusOK {
			http.Error(w, "receiver down", status)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *flakyReceiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// attempt is the attempt number an event's data records (JSON numbers
// come back as float64), or 0.
func attempt(e incident.Event) int {
	n, _ := e.Data["attempt"].(float64)
	return int(n)
}

// Every delivery attempt is on the timeline: each failed one as a
// page_failed event naming the attempt and the HTTP status, then the
// successful one as a page event with its attempt number. The engine's
// retry (backoff from 1 s) sends the same delivery again, and the person
// gets it once.
func TestAttemptsOnTimeline(t *testing.T) {
	for _, fails := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d failed", fails), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				h := newHarness(t, d, 0)
				rcv := newFlakyReceiver(t, fails)
				dir := devSRE(rcv.srv.URL, 0)
				h.m.Directories = staticDirs{dir}
				h.m.Catalog = dir.Catalog
				ctx := context.Background()
				inc, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout down", Services: []string{"checkout"}, Severity: "sev2"})
				if err != nil {
					t.Fatal(err)
				}
				// Retries wait 1 s, then 2 s (±20%); the next rule is ten
				// minutes away, so only dev1's page is in flight.
				h.walk(t, 10*time.Second, 100*time.Millisecond)

				got := rcv.deliveries()
				if len(got) != fails+1 {
					t.Fatalf("deliveries %+v, want %d failed and one accepted", got, fails)
				}
				ok := 0
				for _, g := range got {
					if g.To != "dev1" || g.Delivery != got[0].Delivery {
						t.Errorf("delivery %+v, want dev1's one delivery (%s) each time", g, got[0].Delivery)
					}
					if g.Status == http.StatusOK {
						ok++
					}
				}
				if ok != 1 {
					t.Errorf("dev1 got %d successful deliveries, want 1", ok)
				}

				tl, err := h.m.Timeline(ctx, inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				var pages []incident.Event
				for _, e := range tl {
					if e.Kind == incident.EvPage || e.Kind == incident.EvPageFailed {
						pages = append(pages, e)
					}
				}
				if len(pages) != fails+1 {
					t.Fatalf("page events %+v, want one per attempt (%d)", pages, fails+1)
				}
				for i, e := range pages[:fails] {
					n := i + 1
					if e.Kind != incident.EvPageFailed || attempt(e) != n {
						t.Errorf("event %d: %s attempt %d, want page_failed attempt %d", i, e.Kind, attempt(e), n)
					}
					for _, want := range []string{"dev1", fmt.Sprintf("(attempt %d)", n), "HTTP 500"} {
						if !strings.Contains(e.Message, want) {
							t.Errorf("page_failed message %q does not name %q", e.Message, want)
						}
					}
				}
				last := pages[fails]
				if last.Kind != incident.EvPage || attempt(last) != fails+1 || !strings.Contains(last.Message, fmt.Sprintf("(attempt %d)", fails+1)) {
					t.Errorf("last event %s %q (attempt %d), want page for attempt %d", last.Kind, last.Message, attempt(last), fails+1)
				}
				if last.At.Before(pages[fails-1].At) || last.Data["delivery"] != pages[0].Data["delivery"] {
					t.Errorf("the page %+v does not follow the failure %+v for the same delivery", last, pages[fails-1])
				}
				if failed, _ := h.e.List(ctx, engine.Filter{State: engine.StateFailed}); len(failed) != 0 {
					t.Errorf("failed jobs: %+v", failed)
				}
			})
		})
	}
}

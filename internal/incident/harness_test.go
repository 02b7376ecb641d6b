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

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// page is one request the counting receiver got.
type page struct {
	At       time.Time // fake clock at receipt
	To       string
	Incident int64
	Delivery string
}

// receiver is a webhook endpoint that records every page.
type receiver struct {
	t     testing.TB
	clk   clock.Clock
	srv   *httptest.Server
	mu    sync.Mutex
	pages []page
}

func newReceiver(t testing.TB, clk clock.Clock) *receiver {
	r := &receiver{t: t, clk: clk}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("receiver: bad body %q: %v", body, err)
		}
		if req.Header.Get("X-Tandem-Delivery") != m.DeliveryID || m.DeliveryID == "" {
			t.Errorf("receiver: delivery header %q, body %q", req.Header.Get("X-Tandem-Delivery"), m.DeliveryID)
		}
		r.mu.Lock()
		r.pages = append(r.pages, page{At: r.clk.Now(), To: m.Recipient, Incident: m.IncidentID, Delivery: m.DeliveryID})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []page {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]page(nil), r.pages...)
}

// staticDirs serves one directory at every instant.
type staticDirs struct{ d *oncall.Directory }

func (s staticDirs) DirectoryAt(context.Context, time.Time) (*oncall.Directory, error) {
	return s.d, nil
}

// devSRE is the policy: dev1, then whoever is on call in
// sre-primary, ten minutes apart, num_loops 2.
func devSRE(hookURL string, ackTimeout int) *oncall.Directory {
	pol := oncall.Policy{Name: "Dev-SRE Escalation Policy", NumLoops: 2, AckTimeoutMinutes: ackTimeout, Rules: []oncall.Rule{
		{EscalationDelayInMinutes: 10, Targets: []oncall.Target{{Type: oncall.UserReference, ID: "dev1"}}},
		{EscalationDelayInMinutes: 10, Targets: []oncall.Target{{Type: oncall.ScheduleReference, ID: "sre-primary"}}},
	}}
	sched := &oncall.Schedule{Name: "sre-primary", Location: time.UTC, Layers: []oncall.Layer{{
		Name: "weekly", Users: []string{"alice", "bob"}, Start: t0.Add(-24 * time.Hour), Location: time.UTC, Rotation: oncall.Rotation{Days: 7},
	}}}
	hook := func(p string) oncall.PersonRules {
		return oncall.PersonRules{Person: p,
			ContactMethods: []oncall.ContactMethod{{Name: "hook", Type: oncall.ContactWebhook, Address: hookURL}},
			Rules:          []oncall.NotificationRule{{StartDelayInMinutes: 0, ContactMethod: "hook"}}}
	}
	cat := catalog.New(nil, nil, []catalog.Service{
		{Name: "checkout", Team: "payments", EscalationPolicy: pol.Name, DependsOn: []string{"payments-db"}},
		{Name: "payments-db", Team: "payments"},
		{Name: "quiet", Team: "payments"},
	}, nil)
	return oncall.NewDirectory(oncall.Config{
		Schedules: []*oncall.Schedule{sched}, Policies: []oncall.Policy{pol},
		People: []oncall.PersonRules{hook("dev1"), hook("alice"), hook("bob")},
	}, cat, nil)
}

type harness struct {
	d   *db.DB
	clk *clock.Fake
	e   *engine.Engine
	m   *incident.Manager
	rcv *receiver
	set incident.Settings
}

func newHarness(t testing.TB, d *db.DB, ackTimeout int) *harness {
	h := &harness{d: d, clk: clock.NewFake(t0)}
	h.rcv = newReceiver(t, h.clk)
	h.e = engine.New(d, h.clk, nil, nil)
	h.m = incident.NewManager(d, h.clk, nil, h.e, notify.NewSender(notify.SMTP{}, nil))
	dir := devSRE(h.rcv.srv.URL, ackTimeout)
	h.m.Directories = staticDirs{dir}
	h.m.Catalog = dir.Catalog
	h.set = incident.DefaultSettings()
	h.set.BaseURL = "https://tandem.example"
	h.set.ActionKey = []byte("test-action-key")
	h.m.Settings = func() incident.Settings { return h.set }
	return h
}

// walk moves the fake clock from now to now+d in steps, running due jobs
// at each.
func (h *harness) walk(t testing.TB, d, step time.Duration) {
	t.Helper()
	end := h.clk.Now().Add(d)
	for {
		if _, err := h.e.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !h.clk.Now().Before(end) {
			return
		}
		h.clk.Advance(step)
	}
}

// minutes renders pages as "minute:person" relative to t0.
func minutes(ps []page) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.At.Sub(t0).Round(time.Second).String()+":"+p.To)
	}
	return out
}

package incident_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/oncall"
)

// The policy walked with a fake clock: num_loops 2 is three passes
// through the two rules, ten minutes apart — dev1 at 0, alice (on call in
// sre-primary) at 10, dev1 at 20, alice at 30, dev1 at 40, alice at 50 —
// and nothing after.
func TestEscalationTwoLoops(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout 5xx", Services: []string{"checkout"}, Severity: "sev2", Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if inc.Policy != "Dev-SRE Escalation Policy" || inc.Status != incident.Triggered {
			t.Fatalf("opened %+v", inc)
		}
		h.walk(t, 90*time.Minute, 30*time.Second)
		want := []string{"0s:dev1", "10m0s:alice", "20m0s:dev1", "30m0s:alice", "40m0s:dev1", "50m0s:alice"}
		if got := minutes(h.rcv.got()); !slices.Equal(got, want) {
			t.Fatalf("pages %v\nwant  %v", got, want)
		}
		tl, err := h.m.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var steps, pages int
		for _, e := range tl {
			switch e.Kind {
			case incident.EvEscalation:
				steps++
			case incident.EvPage:
				pages++
			}
		}
		if steps != 6 || pages != 6 {
			t.Fatalf("timeline has %d steps and %d pages, want 6 and 6:\n%v", steps, pages, tl)
		}
	})
}

// A rule that pages nobody escalates at once, as PagerDuty's rules do when
// nobody is on call, and the later rules keep their delays from then: with
// rule 1 a schedule that has nobody on call yet and rule 2 dev1, dev1 is
// paged at 0 and 10 minutes, not at 10 and 30.
func TestEmptyRuleEscalatesAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		pol := oncall.Policy{Name: "Dev-SRE Escalation Policy", NumLoops: 1, Rules: []oncall.Rule{
			{EscalationDelayInMinutes: 10, Targets: []oncall.Target{{Type: oncall.ScheduleReference, ID: "next-month"}}},
			{EscalationDelayInMinutes: 10, Targets: []oncall.Target{{Type: oncall.UserReference, ID: "dev1"}}},
		}}
		later := &oncall.Schedule{Name: "next-month", Location: time.UTC, Layers: []oncall.Layer{{
			Name: "weekly", Users: []string{"alice"}, Start: t0.Add(30 * 24 * time.Hour), Location: time.UTC, Rotation: oncall.Rotation{Days: 7},
		}}}
		dev1 := oncall.PersonRules{Person: "dev1",
			ContactMethods: []oncall.ContactMethod{{Name: "hook", Type: oncall.ContactWebhook, Address: h.rcv.srv.URL}},
			Rules:          []oncall.NotificationRule{{StartDelayInMinutes: 0, ContactMethod: "hook"}}}
		cat := devSRE(h.rcv.srv.URL, 0).Catalog()
		dir := oncall.NewDirectory(oncall.Config{Schedules: []*oncall.Schedule{later}, Policies: []oncall.Policy{pol}, People: []oncall.PersonRules{dev1}}, cat, nil)
		h.m.Directories = staticDirs{dir}
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout 5xx", Services: []string{"checkout"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, time.Hour, 30*time.Second)
		if got, want := minutes(h.rcv.got()), []string{"0s:dev1", "10m0s:dev1"}; !slices.Equal(got, want) {
			t.Fatalf("pages %v, want %v", got, want)
		}
		tl, _ := h.m.Timeline(ctx, inc.ID)
		n := 0
		for _, e := range tl {
			if strings.Contains(e.Message, "paged nobody: escalating to the next rule now") {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("%d immediate escalations on the timeline, want 2", n)
		}
	})
}

// An ack at 25 minutes stops the escalation: dev1 at 0, alice at 10,
// dev1 at 20, then nothing.
func TestEscalationStopsAtAck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout 5xx", Services: []string{"checkout"}, Severity: "sev1"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, 25*time.Minute, 30*time.Second)
		if _, err := h.m.Ack(ctx, inc.ID, "dev1"); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 60*time.Minute, time.Minute)
		want := []string{"0s:dev1", "10m0s:alice", "20m0s:dev1"}
		if got := minutes(h.rcv.got()); !slices.Equal(got, want) {
			t.Fatalf("pages %v, want %v", got, want)
		}
		// Acking twice is a conflict, not a second ack.
		if _, err := h.m.Ack(ctx, inc.ID, "dev1"); err == nil {
			t.Fatal("second ack: want conflict")
		}
	})
}

// An ack that is not followed by a resolve within the ack timeout
// re-triggers the incident and escalation starts again; a resolve stops
// everything.
func TestAckTimeoutRetriggers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 30)
		ctx := context.Background()
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout 5xx", Services: []string{"checkout"}, Severity: "sev1"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, 5*time.Minute, time.Minute) // dev1 at 0
		if _, err := h.m.Ack(ctx, inc.ID, "dev1"); err != nil {
			t.Fatal(err)
		}
		// Acked at 5m with a 30-minute timeout: re-triggered at 35m, dev1
		// paged at 35m and alice at 45m; resolved at 50m.
		h.walk(t, 45*time.Minute, time.Minute)
		got, _ := h.m.Get(ctx, inc.ID)
		if got.Status != incident.Triggered {
			t.Fatalf("after the ack timeout: %s, want triggered", got.Status)
		}
		if _, err := h.m.Resolve(ctx, inc.ID, "alice", "rolled back"); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 60*time.Minute, time.Minute)
		want := []string{"0s:dev1", "35m0s:dev1", "45m0s:alice"}
		if got := minutes(h.rcv.got()); !slices.Equal(got, want) {
			t.Fatalf("pages %v, want %v", got, want)
		}
	})
}

// Alerts during a maintenance window are recorded and page nobody; the
// window's end is logged on the incident's timeline.
func TestMaintenanceWindow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		w, err := h.m.AddWindow(ctx, incident.Window{Service: "checkout", StartsAt: t0.Add(-time.Minute), EndsAt: t0.Add(30 * time.Minute), Reason: "database upgrade"})
		if err != nil {
			t.Fatal(err)
		}
		inc, err := h.m.Alert(ctx, incident.AlertInput{Source: "test", GroupKey: "g1", Fingerprint: "f1", Service: "checkout", Severity: "sev2", Title: "latency", Status: incident.Firing})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, 29*time.Minute, time.Minute)
		if p := h.rcv.got(); len(p) != 0 {
			t.Fatalf("paged during maintenance: %v", p)
		}
		// Still firing when the window ends: it escalates from then.
		h.walk(t, 2*time.Minute, time.Minute)
		if got := minutes(h.rcv.got()); !slices.Equal(got, []string{"30m0s:dev1"}) {
			t.Fatalf("pages after the window %v, want dev1 at its end", got)
		}
		tl, _ := h.m.Timeline(ctx, inc.ID)
		var texts []string
		for _, e := range tl {
			if e.Kind == incident.EvMaintenance {
				texts = append(texts, e.Message)
			}
		}
		if len(texts) != 2 || !strings.Contains(texts[0], "nobody paged") || !strings.Contains(texts[1], "ended") {
			t.Fatalf("maintenance timeline %q (window %d)", texts, w.ID)
		}
	})
}

// When a window ends, an incident on its service that is still triggered
// escalates from rule 0: one opened during the window (which paged nobody)
// and one whose escalation the window stopped. An acknowledged one is left
// alone, and one with its escalation still scheduled is not paged twice.
func TestMaintenanceEndEscalatesStillTriggered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		if _, err := h.m.AddWindow(ctx, incident.Window{Service: "checkout", StartsAt: t0.Add(5 * time.Minute), EndsAt: t0.Add(35 * time.Minute), Reason: "upgrade"}); err != nil {
			t.Fatal(err)
		}
		alert := func(group string) incident.Incident {
			t.Helper()
			inc, err := h.m.Alert(ctx, incident.AlertInput{Source: "test", GroupKey: group, Fingerprint: group, Service: "checkout", Severity: "sev2", Title: group, Status: incident.Firing})
			if err != nil {
				t.Fatal(err)
			}
			return inc
		}
		before := alert("before") // dev1 at 0; its 10-minute step falls in the window
		h.walk(t, 12*time.Minute, time.Minute)
		during := alert("during")
		acked := alert("acked")
		if _, err := h.m.Ack(ctx, acked.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 40*time.Minute, time.Minute) // to 52 minutes
		at := map[int64][]string{}
		for _, p := range h.rcv.got() {
			at[p.Incident] = append(at[p.Incident], p.At.Sub(t0).String()+":"+p.To)
		}
		if got, want := at[before.ID], []string{"0s:dev1", "35m0s:dev1", "45m0s:alice"}; !slices.Equal(got, want) {
			t.Errorf("incident escalated before the window: pages %v, want %v", got, want)
		}
		if got, want := at[during.ID], []string{"35m0s:dev1", "45m0s:alice"}; !slices.Equal(got, want) {
			t.Errorf("incident opened during the window: pages %v, want %v", got, want)
		}
		if len(at[acked.ID]) != 0 {
			t.Errorf("the acknowledged incident was paged: %v", at[acked.ID])
		}
		// A still-scheduled escalation is not doubled: a new incident whose
		// next step comes after a second window's end keeps one plan.
		h2 := alert("later")
		if _, err := h.m.AddWindow(ctx, incident.Window{Service: "checkout", StartsAt: h.clk.Now().Add(time.Minute), EndsAt: h.clk.Now().Add(3 * time.Minute), Reason: "blip"}); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 15*time.Minute, time.Minute)
		n := 0
		for _, p := range h.rcv.got() {
			if p.Incident == h2.ID {
				n++
			}
		}
		if n != 2 { // dev1 at once, alice at +10 minutes
			t.Errorf("incident with its escalation scheduled through a short window: %d pages, want 2", n)
		}
	})
}

// A window's end resumes only what the window held back: an incident whose
// escalation had run its course before the window is not paged again. And
// an end job that runs late (a retry after a failure moves its run time)
// still resumes the incidents it held.
func TestMaintenanceEndResumesOnlyWhatItHeld(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		old, err := h.m.Open(ctx, incident.OpenInput{Title: "old", Services: []string{"checkout"}, Severity: "sev3"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, time.Hour, time.Minute) // its two-loop escalation is over (six pages)
		start := h.clk.Now()
		if _, err := h.m.AddWindow(ctx, incident.Window{Service: "checkout", StartsAt: start.Add(time.Minute), EndsAt: start.Add(5 * time.Minute), Reason: "restart"}); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 2*time.Minute, time.Minute)
		held, err := h.m.Alert(ctx, incident.AlertInput{Source: "test", GroupKey: "g", Fingerprint: "f", Service: "checkout", Severity: "sev2", Title: "held", Status: incident.Firing})
		if err != nil {
			t.Fatal(err)
		}
		// The end job runs 90 s late, as after a failed first run.
		if _, err := d.Exec(ctx, `UPDATE jobs SET run_at = run_at + 90000 WHERE kind = 'incident.maintenance_end'`); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 10*time.Minute, 30*time.Second)
		pages := map[int64]int{}
		for _, p := range h.rcv.got() {
			pages[p.Incident]++
		}
		if pages[old.ID] != 6 {
			t.Errorf("the incident escalated before the window got %d pages, want its 6 and no more", pages[old.ID])
		}
		if pages[held.ID] == 0 {
			t.Errorf("the incident the window held was not paged after a late end job")
		}
	})
}

// Ending a window early makes alerts page again from that moment, logs the
// early end (once) on the incidents opened during it, and survives the
// config adding the same window again; a window not yet started is
// cancelled; an ended window cannot be ended twice.
func TestEndMaintenanceWindow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		planned := incident.Window{Service: "checkout", StartsAt: t0.Add(-time.Minute), EndsAt: t0.Add(time.Hour), Reason: "database upgrade"}
		w, err := h.m.AddWindow(ctx, planned)
		if err != nil {
			t.Fatal(err)
		}
		alert := func(group string) incident.Incident {
			t.Helper()
			inc, err := h.m.Alert(ctx, incident.AlertInput{Source: "test", GroupKey: group, Fingerprint: group, Service: "checkout", Severity: "sev2", Title: group, Status: incident.Firing})
			if err != nil {
				t.Fatal(err)
			}
			return inc
		}
		pagesFor := func(id int64) int {
			n := 0
			for _, p := range h.rcv.got() {
				if p.Incident == id {
					n++
				}
			}
			return n
		}
		during := alert("during")
		h.walk(t, 10*time.Minute, time.Minute)
		ended, err := h.m.EndWindow(ctx, w.ID, "alice")
		if err != nil || ended.EndedAt == nil || !ended.EndedAt.Equal(h.clk.Now()) || ended.EndedBy != "alice" {
			t.Fatalf("end: %+v, %v", ended, err)
		}
		if _, err := h.m.EndWindow(ctx, w.ID, "alice"); tandem.ErrorCode(err) != tandem.EConflict {
			t.Fatalf("ending it twice: %v, want conflict", err)
		}
		if _, err := h.m.EndWindow(ctx, 999999, "alice"); tandem.ErrorCode(err) != tandem.ENotFound {
			t.Fatalf("ending no window: %v, want not_found", err)
		}
		after := alert("after")
		// The config is reloaded: the same planned window is not added again.
		if again, err := h.m.AddWindow(ctx, planned); err != nil || again.ID != w.ID {
			t.Fatalf("re-adding the planned window: %+v, %v", again, err)
		}
		reloaded := alert("after-reload")
		h.walk(t, time.Hour, time.Minute) // past the planned end
		// The incident opened during the window, still firing, escalates
		// from the early end on, not before.
		for _, p := range h.rcv.got() {
			if p.Incident == during.ID && p.At.Before(*ended.EndedAt) {
				t.Errorf("the incident opened during the window was paged at %s, before the window ended", p.At)
			}
		}
		if pagesFor(during.ID) == 0 {
			t.Errorf("the incident still firing after the early end was never paged")
		}
		if pagesFor(after.ID) == 0 || pagesFor(reloaded.ID) == 0 {
			t.Errorf("alerts after the early end did not page: %v", h.rcv.got())
		}
		tl, _ := h.m.Timeline(ctx, during.ID)
		var texts []string
		for _, e := range tl {
			if e.Kind == incident.EvMaintenance {
				texts = append(texts, e.Message)
			}
		}
		if len(texts) != 2 || !strings.Contains(texts[1], "ended early by alice") {
			t.Fatalf("maintenance timeline %q, want the early end once", texts)
		}
		if ws, _ := h.m.Windows(ctx, h.clk.Now().Add(-30*time.Minute)); len(ws) != 0 {
			t.Fatalf("an ended window is still listed: %+v", ws)
		}

		// A window that has not started is cancelled: it never holds a page.
		future, err := h.m.AddWindow(ctx, incident.Window{Service: "checkout", StartsAt: h.clk.Now().Add(time.Hour), EndsAt: h.clk.Now().Add(2 * time.Hour), Reason: "later"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := h.m.EndWindow(ctx, future.ID, "bob"); err != nil || c.EndedAt == nil || c.EndedAt.After(c.StartsAt) {
			t.Fatalf("cancel: %+v, %v", c, err)
		}
		if ws, _ := h.m.Windows(ctx, h.clk.Now()); len(ws) != 0 {
			t.Fatalf("a cancelled window is listed: %+v", ws)
		}
		h.walk(t, 90*time.Minute, time.Minute) // into the cancelled window's span
		late := alert("in-cancelled")
		h.walk(t, time.Minute, time.Minute)
		if pagesFor(late.ID) == 0 {
			t.Fatalf("an alert in a cancelled window paged nobody")
		}
	})
}

// A missed heartbeat opens an incident on its service; the next call
// resolves it.
func TestHeartbeat(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		hb := incident.Heartbeat{Name: "nightly-backup", Service: "checkout", Interval: 10 * time.Minute, Severity: "sev3"}
		if err := h.m.Beat(ctx, hb); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 9*time.Minute, time.Minute)
		if err := h.m.Beat(ctx, hb); err != nil { // at 9m: next check at 20m (10m interval + 1m default grace)
			t.Fatal(err)
		}
		h.walk(t, 10*time.Minute, time.Minute) // 19m: still fine
		if l, _ := h.m.List(ctx, incident.Filter{}); len(l) != 0 {
			t.Fatalf("incidents before the miss: %d", len(l))
		}
		h.walk(t, 2*time.Minute, time.Minute) // 21m: missed at 20m
		l, _ := h.m.List(ctx, incident.Filter{})
		if len(l) != 1 || l[0].Status != incident.Triggered || l[0].Source != "heartbeat" || !l[0].StartedAt.Equal(t0.Add(20*time.Minute)) {
			t.Fatalf("after the miss: %+v", l)
		}
		if p := h.rcv.got(); len(p) != 1 || p[0].To != "dev1" {
			t.Fatalf("pages %v, want dev1 once", p)
		}
		if err := h.m.Beat(ctx, hb); err != nil {
			t.Fatal(err)
		}
		if got, _ := h.m.Get(ctx, l[0].ID); got.Status != incident.Resolved {
			t.Fatalf("after the next call: %s, want resolved", got.Status)
		}
	})
}

// Every job the escalation made is visible and none failed.
func TestEscalationJobsVisible(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		if _, err := h.m.Open(ctx, incident.OpenInput{Title: "x", Services: []string{"checkout"}, Severity: "sev2"}); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 15*time.Minute, time.Minute)
		jobs, err := h.e.List(ctx, engine.Filter{State: engine.StateFailed})
		if err != nil || len(jobs) != 0 {
			t.Fatalf("failed jobs %v %v", jobs, err)
		}
		queued, _ := h.e.List(ctx, engine.Filter{State: engine.StateQueued})
		if len(queued) != 1 || queued[0].Kind != "incident.escalate" {
			t.Fatalf("queued %+v, want the next step", queued)
		}
	})
}

// Notification rules: alice is paged by Slack at once and by webhook five
// minutes later; an ack at three minutes cancels the webhook page. The
// Slack request goes to the configured incoming webhook and mentions her.
func TestNotificationRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		var slackBodies []string
		slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			slackBodies = append(slackBodies, string(b))
		}))
		defer slack.Close()
		h.set.SlackWebhookURL = slack.URL
		pol := oncall.Policy{Name: "solo", Rules: []oncall.Rule{{EscalationDelayInMinutes: 30, Targets: []oncall.Target{{Type: oncall.UserReference, ID: "alice"}}}}}
		cat := catalog.New(nil, []catalog.Person{{Name: "alice", Slack: "U012AB3CD"}}, []catalog.Service{{Name: "api", Team: "t", EscalationPolicy: "solo"}}, nil)
		h.m.Directories = staticDirs{oncall.NewDirectory(oncall.Config{Policies: []oncall.Policy{pol}, People: []oncall.PersonRules{{Person: "alice",
			ContactMethods: []oncall.ContactMethod{{Name: "hook", Type: oncall.ContactWebhook, Address: h.rcv.srv.URL}},
			Rules:          []oncall.NotificationRule{{StartDelayInMinutes: 0, ContactMethod: "slack"}, {StartDelayInMinutes: 5, ContactMethod: "hook"}}}}}, cat, nil)}
		ctx := context.Background()
		first, err := h.m.Open(ctx, incident.OpenInput{Title: "api down", Services: []string{"api"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, 3*time.Minute, time.Minute)
		if _, err := h.m.Ack(ctx, first.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 10*time.Minute, time.Minute)
		if len(slackBodies) != 1 || !strings.Contains(slackBodies[0], "<@U012AB3CD> *[SEV2] api down") || !strings.Contains(slackBodies[0], `"text":"Acknowledge"`) {
			t.Fatalf("slack %q", slackBodies)
		}
		if p := h.rcv.got(); len(p) != 0 {
			t.Fatalf("webhook paged after the ack: %v", minutes(p))
		}
		// Unacknowledged, the webhook page follows five minutes later.
		second, err := h.m.Open(ctx, incident.OpenInput{Title: "api down again", Services: []string{"api"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		opened := h.clk.Now()
		h.walk(t, 6*time.Minute, time.Minute)
		p := h.rcv.got()
		if len(p) != 1 || p[0].Incident != second.ID || p[0].At.Sub(opened) != 5*time.Minute || len(slackBodies) != 2 {
			t.Fatalf("pages %+v, slack %d", p, len(slackBodies))
		}
	})
}

// Changes on the incident's service and on the services it depends on in
// the two hours before impact start are attached as suspects, newest
// first, and put on the timeline; older changes, later ones and changes
// of unrelated services are not.
func TestSuspects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		changes := change.NewStore(d)
		h.m.Changes = changes
		start := t0.Add(-10 * time.Minute) // impact start
		deploy := func(service, version string, at time.Time, status string) {
			t.Helper()
			if _, err := changes.Record(ctx, []change.Event{{Service: service, Kind: change.KindDeploy, Version: version,
				FinishedAt: at, Status: status, Source: "test", ExternalID: service + "-" + version}}, t0); err != nil {
				t.Fatal(err)
			}
		}
		deploy("checkout", "v41", start.Add(-3*time.Hour), change.StatusSuccess)      // too old
		deploy("payments-db", "v7", start.Add(-90*time.Minute), change.StatusSuccess) // a dependency
		deploy("checkout", "v42", start.Add(-20*time.Minute), change.StatusFailed)    // the service itself
		deploy("quiet", "v3", start.Add(-5*time.Minute), change.StatusSuccess)        // unrelated
		deploy("checkout", "v43", start.Add(5*time.Minute), change.StatusSuccess)     // after impact start
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout errors", Services: []string{"checkout"}, Severity: "sev2", StartedAt: start})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range inc.Suspects {
			got = append(got, s.Service+" "+s.Version)
		}
		if strings.Join(got, ", ") != "checkout v42, payments-db v7" {
			t.Fatalf("suspects %q, want checkout v42 then payments-db v7", got)
		}
		tl, _ := h.m.Timeline(ctx, inc.ID)
		var onTimeline []string
		during := false
		for _, e := range tl {
			if e.Kind == incident.EvChange && strings.HasPrefix(e.Message, "suspect:") {
				onTimeline = append(onTimeline, e.Message)
			}
			during = during || (e.Kind == incident.EvChange && strings.HasPrefix(e.Message, "change: deploy v43 of checkout"))
		}
		if len(onTimeline) != 2 || !strings.Contains(strings.Join(onTimeline, "\n"), "deploy v42 of checkout (failed)") {
			t.Fatalf("suspects on the timeline: %q", onTimeline)
		}
		if !during { // v43 came after impact start: related, not a suspect
			t.Fatalf("the deploy during the incident is not on its timeline")
		}
	})
}

// TestEscalateNow: escalating pages the next rule at once and keeps the
// later rules' delays from then; an acknowledged incident is triggered
// again; past the last rule there is nothing to escalate to.
func TestEscalateNow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "x", Services: []string{"checkout"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, 2*time.Minute, time.Minute) // dev1 paged at 0
		if _, err := h.m.Ack(ctx, inc.ID, "dev1"); err != nil {
			t.Fatal(err)
		}
		got, err := h.m.Escalate(ctx, inc.ID, "dev1 (slack)")
		if err != nil || got.Status != incident.Triggered {
			t.Fatalf("escalate = %+v, %v", got, err)
		}
		h.walk(t, 11*time.Minute, time.Minute)
		// 0: dev1; 2m: escalated to rule 2 (alice on call); 12m: rule 1 of loop 2 (dev1).
		want := []string{"0s:dev1", "2m0s:alice", "12m0s:dev1"}
		if g := minutes(h.rcv.got()); !slices.Equal(g, want) {
			t.Fatalf("pages = %v, want %v", g, want)
		}
		if _, err := h.m.Resolve(ctx, inc.ID, "dev1", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := h.m.Escalate(ctx, inc.ID, "dev1"); tandem.ErrorCode(err) != tandem.EConflict {
			t.Fatalf("escalating a resolved incident = %v, want a conflict", err)
		}
	})
}

// The first rule's pages are enqueued in the transaction of the alert that
// opens the incident: before any job runs, the page jobs are there and the
// first step is recorded done (its key taken), with the next step queued.
func TestFirstPagesInAlertTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		if _, err := h.m.Alert(ctx, incident.AlertInput{Source: "alertmanager", GroupKey: "g1", Fingerprint: "f1", Service: "checkout",
			Severity: "sev2", Title: "checkout down", Status: "firing", StartsAt: t0}); err != nil {
			t.Fatal(err)
		}
		pages, _ := h.e.List(ctx, engine.Filter{Kind: "incident.page", State: engine.StateQueued})
		steps, _ := h.e.List(ctx, engine.Filter{Kind: "incident.escalate"})
		if len(pages) == 0 {
			t.Fatalf("no page job after the alert; steps %+v", steps)
		}
		if len(steps) != 2 || steps[1].State != engine.StateDone || steps[0].State != engine.StateQueued {
			t.Fatalf("steps %+v, want the first done and the second queued", steps)
		}
		h.walk(t, time.Second, time.Second)
		if got := len(h.rcv.got()); got != len(pages) {
			t.Fatalf("%d pages sent, want %d", got, len(pages))
		}
	})
}

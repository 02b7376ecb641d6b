package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
)

// incidentGenerators fill the history of incidents: about half of the
// failed deploys caused one (opened minutes after the deploy, resolved
// around the fix), plus incidents no change explains, each with alerts,
// escalation steps and pages to whoever was on call, an ack, notes, a
// resolve and (after a few days) a close; and two incidents open now.
var incidentGenerators = []generator{{name: "incidents", run: generateIncidents}}

// demoIncident is one incident to write.
type demoIncident struct {
	service, title, summary, sev string
	start, ack, resolve          time.Time
	deployID                     int64
	version                      string
	// detected and closed, when set, replace the drawn times of detection
	// and closing; notes the drawn notes; fix the resolve note.
	detected, closed time.Time
	notes            []string
	fix              string
	labels           map[string]string
}

var alertTitles = []struct{ title, summary string }{
	{"High 5xx error rate", "More than 5% of requests fail with 5xx."},
	{"p99 latency above SLO", "p99 latency over 800 ms for 10 minutes."},
	{"Pods crash-looping", "Containers restart repeatedly after the rollout."},
	{"Database connections exhausted", "Connection pool saturated; requests time out."},
	{"Queue backlog growing", "Consumer lag above 10 minutes."},
}

func generateIncidents(ctx context.Context, m *app.Main, rng *rand.Rand, now time.Time, days int) error {
	live := m.API.Incident.Manager
	if live == nil || m.API.Change.Store == nil {
		return nil
	}
	// Running the demo twice adds nothing twice.
	if prev, err := live.List(ctx, incident.Filter{Limit: 1}); err != nil || len(prev) > 0 {
		return err
	}
	cat := m.Config.Get().Catalog
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	deploys, err := m.API.Change.Store.List(ctx, change.Filter{Kinds: []string{change.KindDeploy}, Since: from, Until: now, Limit: 100000})
	if err != nil {
		return err
	}
	sort.Slice(deploys, func(i, j int) bool { return deploys[i].At().Before(deploys[j].At()) })
	var plan []demoIncident
	for i, d := range deploys {
		if d.Status != change.StatusFailed || rng.Float64() > 0.8 {
			continue
		}
		if _, ok := measuredServices[d.Service]; ok {
			continue // failed before taking traffic: nobody was paged
		}
		start := d.At().Add(time.Duration(2+rng.IntN(10)) * time.Minute)
		// Resolved a few minutes after the next good deploy (the fix).
		resolve := start.Add(time.Duration(20+rng.IntN(100)) * time.Minute)
		for _, n := range deploys[i+1:] {
			if n.Service == d.Service && n.Status == change.StatusSuccess {
				resolve = n.At().Add(time.Duration(3+rng.IntN(15)) * time.Minute)
				break
			}
		}
		if resolve.Sub(start) > 3*24*time.Hour {
			resolve = start.Add(time.Duration(6+rng.IntN(30)) * time.Hour)
		}
		a := alertTitles[rng.IntN(len(alertTitles))]
		plan = append(plan, demoIncident{service: d.Service, title: a.title + " on " + d.Service + " after " + d.Version, summary: a.summary,
			sev: []string{"sev1", "sev2", "sev2", "sev3"}[rng.IntN(4)], start: start, deployID: d.ID, version: d.Version, resolve: resolve})
	}
	// Incidents no change explains: dependencies, traffic, hardware; on a
	// service with a native SLO, exactly the bad spells its SLI shows.
	var unmeasured []catalog.Service
	for _, svc := range cat.Services {
		if _, ok := measuredServices[svc.Name]; !ok {
			unmeasured = append(unmeasured, svc)
		}
	}
	for k := 0; k < days/5 && len(unmeasured) > 0; k++ {
		svc := unmeasured[rng.IntN(len(unmeasured))]
		start := from.Add(time.Duration(rng.Int64N(int64(now.Sub(from) - 6*time.Hour))))
		a := alertTitles[rng.IntN(len(alertTitles))]
		plan = append(plan, demoIncident{service: svc.Name, title: a.title + " on " + svc.Name, summary: a.summary,
			sev: []string{"sev2", "sev3", "sev3", "sev4"}[rng.IntN(4)], start: start,
			resolve: start.Add(time.Duration(15+rng.IntN(240)) * time.Minute)})
	}
	end := now.UTC().Truncate(time.Minute)
	for _, d := range demoSLOs {
		if _, ok := cat.Service(d.service); !ok {
			continue
		}
		for _, sp := range d.spells(story(now), end) {
			if sp.title == "" || sp.from.Before(from) {
				continue
			}
			plan = append(plan, demoIncident{service: d.service, title: sp.title, summary: sp.summary, sev: sp.sev,
				start: sp.from, resolve: sp.to.Add(time.Duration(2+rng.IntN(6)) * time.Minute)})
		}
	}
	for i := range plan {
		p := &plan[i]
		p.ack = p.start.Add(time.Duration(1+rng.IntN(12)) * time.Minute)
		if !p.resolve.After(p.ack) {
			p.resolve = p.ack.Add(10 * time.Minute)
		}
		if p.resolve.After(now) {
			p.resolve = time.Time{} // still open
		}
	}
	// The scenario's incident.
	if sc, ok := storyIncident(deploys, now); ok {
		plan = append(plan, sc)
	}
	// Two incidents open now, on services without a native SLO (so no
	// SLI contradicts them): one acknowledged, one just triggered.
	// Checkout's current page is raised live by the SLO evaluator.
	if len(unmeasured) > 0 {
		s0 := unmeasured[0].Name
		s1 := unmeasured[len(unmeasured)-1].Name
		plan = append(plan,
			demoIncident{service: s0, title: "Queue backlog growing on " + s0, summary: "Consumer lag above 10 minutes; the batch is behind.",
				sev: "sev3", start: now.Add(-47 * time.Minute), ack: now.Add(-41 * time.Minute)},
			demoIncident{service: s1, title: "Database connections exhausted on " + s1, summary: "Connection pool saturated; jobs time out waiting for a connection.",
				sev: "sev3", start: now.Add(-6 * time.Minute)})
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].start.Before(plan[j].start) })
	for _, p := range plan {
		if err := writeIncident(ctx, m, cat, rng, p, now); err != nil {
			return fmt.Errorf("demo incident %q: %w", p.title, err)
		}
	}
	// The jobs behind the heartbeat monitors ran last at the demo's start
	// and called in (the next check is an interval and a grace away).
	if mgr := m.API.Incident.Manager; mgr != nil {
		for _, h := range m.Config.Get().Incident.Heartbeats {
			if err := mgr.Beat(ctx, h); err != nil {
				return fmt.Errorf("demo heartbeat %s: %w", h.Name, err)
			}
		}
	}
	return nil
}

// writeIncident records one incident through a manager whose clock is set
// to each moment in turn. It pages nobody: the manager has no directory and
// its engine never runs; the pages are computed from the on-call config
// and recorded on the timeline.
func writeIncident(ctx context.Context, m *app.Main, cat *catalog.Catalog, rng *rand.Rand, p demoIncident, now time.Time) error {
	clk := clock.NewFake(p.start)
	mgr := incident.NewManager(m.DB, clk, nil, engine.New(m.DB, clk, nil, nil), notify.NewSender(notify.SMTP{}, nil))
	mgr.Changes = m.API.Change.Store
	mgr.Catalog = func() *catalog.Catalog { return cat }
	labels := map[string]string{"alertname": "demo"}
	for k, v := range p.labels {
		labels[k] = v
	}
	if p.deployID != 0 {
		labels["deploy_id"] = strconv.FormatInt(p.deployID, 10)
	}
	detected := p.start.Add(time.Duration(1+rng.IntN(3)) * time.Minute)
	if !p.detected.IsZero() {
		detected = p.detected
	}
	clk.Set(detected)
	inc, err := mgr.Open(ctx, incident.OpenInput{Title: p.title, Services: []string{p.service}, Severity: p.sev, Summary: p.summary,
		StartedAt: p.start, Labels: labels, Source: "demo", Actor: "alertmanager", NoPage: true,
		Impact: &incident.Impact{UsersAffected: int64(50 + rng.IntN(5000))}})
	if err != nil {
		return err
	}
	rec := func(at time.Time, kind, actor, msg string) error {
		return mgr.RecordEvent(ctx, inc.ID, incident.Event{At: at, Kind: kind, Actor: actor, Message: msg})
	}
	if err := rec(detected, incident.EvAlertFired, "alertmanager", "alert "+alertName(p.title)+" fired {service=\""+p.service+"\"}"); err != nil {
		return err
	}
	acker, err := recordPages(ctx, m, rec, p.service, detected, p.ack)
	if err != nil {
		return err
	}
	if p.ack.IsZero() {
		return nil
	}
	clk.Set(p.ack)
	if _, err := mgr.Ack(ctx, inc.ID, acker); err != nil {
		return err
	}
	notes := []string{"Looking at the dashboards.", "Error rate is back to normal in one zone; watching the others.", "Customer support informed."}
	if p.deployID != 0 {
		notes[0] = "Suspect: deploy " + p.version + ". Rolling back."
	}
	notes = notes[:1+rng.IntN(len(notes))]
	if p.notes != nil {
		notes = p.notes
	}
	for i, n := range notes {
		at := p.ack.Add(time.Duration(2+3*i) * time.Minute)
		if !p.resolve.IsZero() && at.After(p.resolve) {
			break
		}
		if at.After(now) {
			break
		}
		clk.Set(at)
		if _, err := mgr.AddNote(ctx, inc.ID, acker, n); err != nil {
			return err
		}
	}
	if p.resolve.IsZero() {
		return nil
	}
	clk.Set(p.resolve)
	if err := rec(p.resolve, incident.EvAlertResolve, "alertmanager", "alert "+alertName(p.title)+" resolved"); err != nil {
		return err
	}
	fix := "mitigated"
	if p.deployID != 0 {
		fix = "fixed by the next deploy"
	}
	if p.fix != "" {
		fix = p.fix
	}
	if _, err := mgr.Resolve(ctx, inc.ID, acker, fix); err != nil {
		return err
	}
	closeAt := p.resolve.Add(time.Duration(24+rng.IntN(48)) * time.Hour)
	if !p.closed.IsZero() {
		closeAt = p.closed
	}
	if closeAt.Before(now) {
		clk.Set(closeAt)
		if _, err := mgr.Close(ctx, inc.ID, acker); err != nil {
			return err
		}
	}
	return nil
}

func alertName(title string) string {
	for _, a := range alertTitles {
		if len(title) >= len(a.title) && title[:len(a.title)] == a.title {
			return map[string]string{
				"High 5xx error rate": "HighErrorRate", "p99 latency above SLO": "HighLatency", "Error budget burning fast": "ErrorBudgetBurn",
				"Pods crash-looping": "KubePodCrashLooping", "Database connections exhausted": "DBConnectionsExhausted", "Queue backlog growing": "QueueBacklog",
			}[a.title]
		}
	}
	return "Alert"
}

// recordPages records the escalation the service's policy would have run
// from detected until ack (or until it ran out), using the on-call config,
// and returns who acknowledged: the last person paged before the ack.
func recordPages(ctx context.Context, m *app.Main, rec func(time.Time, string, string, string) error, service string, detected, ack time.Time) (string, error) {
	svc := m.API.Oncall.Service
	acker := "alice"
	if svc == nil {
		return acker, nil
	}
	dir, err := svc.DirectoryAt(ctx, detected)
	if err != nil {
		return acker, err
	}
	pol, ok := dir.PolicyForService(service)
	if !ok {
		return acker, rec(detected, incident.EvEscalation, "", "no escalation policy for "+service+": nobody paged")
	}
	for _, st := range oncall.Plan(pol, detected, ack) {
		people := dir.ResolveAll(st.Targets, st.At)
		if err := rec(st.At, incident.EvEscalation, "", fmt.Sprintf("escalation loop %d rule %d: paging %v", st.Loop+1, st.Rule+1, people)); err != nil {
			return acker, err
		}
		for _, p := range people {
			acker = p
			for _, n := range dir.Notifications(p, st.At) {
				if !ack.IsZero() && !n.At.Before(ack) {
					continue
				}
				if err := rec(n.At, incident.EvPage, "", fmt.Sprintf("paged %s by %s (attempt 1)", p, n.Method.Name)); err != nil {
					return acker, err
				}
			}
		}
	}
	return acker, nil
}

// storyIncident is the scenario's incident: the bad checkout deploy's
// page, acknowledged, rolled back, resolved and closed (so its postmortem
// is drafted). ok is false when the history lacks the scenario's deploy.
func storyIncident(deploys []change.Event, now time.Time) (demoIncident, bool) {
	sc := story(now)
	for _, d := range deploys {
		if d.Service != storyService || !d.At().Equal(sc.BadDeploy) {
			continue
		}
		return demoIncident{service: storyService, sev: "sev1", deployID: d.ID, version: d.Version,
			title:   "High 5xx error rate on checkout after " + d.Version,
			summary: fmt.Sprintf("%.0f%% of checkout requests fail since deploy %s; the 28-day error budget is burning at %.0fx.", storyRatio*100, d.Version, storyRatio/0.001),
			start:   sc.SLIDrop, detected: sc.Detected, ack: sc.Ack, resolve: sc.Resolved, closed: sc.Closed,
			labels: map[string]string{storyLabel: "bad-deploy", "slo": storySLO},
			notes: []string{"Suspect: deploy " + d.Version + " went out two minutes before the errors started. Rolling back.",
				"Rollback started; the first attempt stalled on a stuck migration lock.",
				"Errors at 30% until the rollback lands; customer support informed."},
			fix: "rolled back " + d.Version + "; checkout's error ratio back to normal"}, true
	}
	return demoIncident{}, false
}

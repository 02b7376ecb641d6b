package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/oncall"
	"github.com/tandemhq/tandem/internal/slo"
)

// Live keeps the demo alive after its history is generated: every minute
// it writes the native SLOs' traffic of the minute that ended (the same
// daily curve and the same scenario as the history), now and then it
// deploys a service through its SLO gate, and now and then an alert fires
// on a service, pages whoever is on call, is acknowledged and resolves.
// Burn rates, post-deploy verification and the gates so always have
// current data. It is a background module (app.Module) of the demo.
type Live struct {
	m   *app.Main
	log *slog.Logger
	rng *rand.Rand

	mu         sync.Mutex
	traffic    []liveTraffic
	next       time.Time // the next minute to write
	nextDeploy time.Time
	nextAlert  time.Time
	alerts     []liveAlert // alerts firing, to resolve
	alertSeq   int
	acked      map[int64]bool
}

type liveTraffic struct {
	def *slo.Definition
	tr  traffic
}

type liveAlert struct {
	in      incident.AlertInput
	resolve time.Time
}

// Minutes between live deploys and between live alerts (drawn uniformly).
const (
	deployEvery = 10 * time.Minute
	alertEvery  = 25 * time.Minute
	// ackAfter is how long the on-call engineer takes to acknowledge.
	ackAfter = time.Minute
)

// NewLive returns the live module for a demo whose history Seed generated
// up to now.
func NewLive(m *app.Main, now time.Time) *Live {
	l := &Live{m: m, log: m.Options.Log.With("module", "demo"), rng: rand.New(rand.NewPCG(42, uint64(now.Unix()))),
		next: now.UTC().Truncate(time.Minute), acked: map[int64]bool{}}
	l.nextDeploy = now.Add(2 * time.Minute)
	l.nextAlert = now.Add(6 * time.Minute)
	cfg := m.Config.Get().SLO
	for _, d := range demoSLOs {
		def, ok := cfg.Get(d.name)
		if !ok || def.Indicator.Source != slo.SourceNative {
			continue
		}
		l.traffic = append(l.traffic, liveTraffic{def: def, tr: newTraffic(d, now, l.rng)})
	}
	return l
}

// Name names the module.
func (l *Live) Name() string { return "demo" }

// Run steps every few seconds until ctx ends. A failed step is logged and
// tried again at the next tick.
func (l *Live) Run(ctx context.Context) error {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if err := l.Step(ctx, l.m.Options.Clock.Now()); err != nil && ctx.Err() == nil {
			l.log.Warn("demo step failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Step does what is due at now: the traffic of every minute that ended,
// acknowledgements, a deploy, an alert firing or resolving.
func (l *Live) Step(ctx context.Context, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writeTraffic(ctx, now); err != nil {
		return err
	}
	if err := l.acknowledge(ctx, now); err != nil {
		return err
	}
	if !now.Before(l.nextDeploy) {
		l.nextDeploy = now.Add(deployEvery/2 + time.Duration(l.rng.Int64N(int64(deployEvery))))
		if err := l.deploy(ctx, now); err != nil {
			return err
		}
	}
	if !now.Before(l.nextAlert) {
		l.nextAlert = now.Add(alertEvery/2 + time.Duration(l.rng.Int64N(int64(alertEvery))))
		if err := l.fire(ctx, now); err != nil {
			return err
		}
	}
	return l.resolveAlerts(ctx, now)
}

func (l *Live) writeTraffic(ctx context.Context, now time.Time) error {
	store := l.m.API.SLO.Store
	if store == nil {
		return nil
	}
	to := now.UTC().Truncate(time.Minute)
	if !l.next.Before(to) {
		return nil
	}
	for _, t := range l.traffic {
		if err := t.tr.ingest(ctx, store, t.def, l.next, to, now); err != nil {
			return fmt.Errorf("demo traffic for %s: %w", t.def.Name, err)
		}
	}
	l.next = to
	return nil
}

// onCall is who the service's escalation policy pages first at now.
func (l *Live) onCall(ctx context.Context, service string, now time.Time) string {
	if svc := l.m.API.Oncall.Service; svc != nil {
		if dir, err := svc.DirectoryAt(ctx, now); err == nil {
			if pol, ok := dir.PolicyForService(service); ok {
				for _, st := range oncall.Plan(pol, now, now.Add(time.Second)) {
					if people := dir.ResolveAll(st.Targets, st.At); len(people) > 0 {
						return people[0]
					}
				}
			}
		}
	}
	return "alice"
}

// acknowledge acknowledges each incident the demo's live alerts and the SLO
// evaluator opened once it has been triggered for ackAfter, as the person
// on call, with a note of what they found.
func (l *Live) acknowledge(ctx context.Context, now time.Time) error {
	mgr := l.m.API.Incident.Manager
	if mgr == nil {
		return nil
	}
	open, err := mgr.List(ctx, incident.Filter{Status: []string{incident.Triggered}, Since: now.Add(-2 * time.Hour)})
	if err != nil {
		return err
	}
	for _, inc := range open {
		if l.acked[inc.ID] || now.Sub(inc.DetectedAt) < ackAfter || (inc.Source != "slo" && inc.Source != "demo") {
			continue
		}
		l.acked[inc.ID] = true
		service := ""
		if len(inc.Services) > 0 {
			service = inc.Services[0]
		}
		who := l.onCall(ctx, service, now)
		if _, err := mgr.Ack(ctx, inc.ID, who); err != nil {
			return fmt.Errorf("demo ack of incident %d: %w", inc.ID, err)
		}
		note := "Looking at the dashboards."
		if service == storyService && inc.Source == "slo" {
			note = "No deploy since the freeze: the payment provider is timing out. Failing over to the secondary provider."
		}
		if _, err := mgr.AddNote(ctx, inc.ID, who, note); err != nil {
			return fmt.Errorf("demo note on incident %d: %w", inc.ID, err)
		}
	}
	return nil
}

// deploy ships the next version of a service that is not in release
// freeze, through the SLO gate when the service has SLOs tandem measures
// (recorded in the gate log; a failing gate blocks the deploy).
func (l *Live) deploy(ctx context.Context, now time.Time) error {
	changes := l.m.API.Change.Store
	if changes == nil {
		return nil
	}
	var candidates []string
	for _, s := range l.m.Config.Get().Catalog.Services {
		if s.Name != storyService { // frozen since the scenario
			candidates = append(candidates, s.Name)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	service := candidates[l.rng.IntN(len(candidates))]
	if ev, ok, err := evaluateGate(ctx, l.m, service, now); err != nil {
		return err
	} else if ok {
		if _, err := l.m.API.Gate.Results.Record(ctx, gate.Result{Kind: gate.KindSLO, Service: service, Target: "deploy next", Verdict: ev.Verdict,
			Checks: ev.Checks, Message: "promotion gate", Actor: "ci", Source: "https://ci.example.com/" + service}, now); err != nil {
			return err
		}
		if ev.Verdict != gate.Pass {
			l.log.Info("demo deploy blocked by its SLO gate", "service", service, "verdict", ev.Verdict)
			return nil
		}
	}
	last, err := changes.List(ctx, change.Filter{Services: []string{service}, Kinds: []string{change.KindDeploy}, Limit: 1})
	if err != nil {
		return err
	}
	version := "1.0.0"
	if len(last) > 0 {
		version = bump(last[0].Version)
	}
	sha := fakeSHA(service, version, now.Unix())
	people := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	e := change.Event{Service: service, Kind: change.KindDeploy, Version: version, Commit: sha, Commits: []string{sha},
		StartedAt: now.Add(-4 * time.Minute), FinishedAt: now, Status: change.StatusSuccess, Actor: people[l.rng.IntN(len(people))],
		Source: "demo", ExternalID: fmt.Sprintf("%s-live-%d", service, now.Unix()),
		Links: map[string]string{"ci": fmt.Sprintf("https://ci.example.com/%s/%d", service, now.Unix())}}
	if _, err := changes.RecordCommits(ctx, []change.Commit{{Service: service, SHA: sha, CommittedAt: now.Add(-time.Duration(1+l.rng.IntN(48)) * time.Hour), Source: "demo"}}, now); err != nil {
		return err
	}
	if _, err := changes.Record(ctx, []change.Event{e}, now); err != nil {
		return fmt.Errorf("demo deploy of %s: %w", service, err)
	}
	l.log.Info("demo deploy", "service", service, "version", version)
	return nil
}

// bump raises the last number of a dotted version.
func bump(v string) string {
	i := strings.LastIndexByte(v, '.')
	n, err := strconv.Atoi(v[i+1:])
	if err != nil {
		return v + ".1"
	}
	return v[:i+1] + strconv.Itoa(n+1)
}

// liveAlerts are the alerts that fire now and then, on services without a
// native SLO (whose SLIs would otherwise have to show them).
var liveAlerts = []struct{ name, title, summary string }{
	{"QueueBacklog", "Queue backlog growing", "Consumer lag above 10 minutes."},
	{"DiskFillingUp", "Disk filling up", "The data volume is 85% full and will be full within 6 hours."},
	{"CertificateExpiring", "TLS certificate expiring", "The certificate expires in 6 days; renewal failed."},
}

// fire raises an alert through the incident capability's alert intake, as
// Alertmanager would; it resolves a few minutes later.
func (l *Live) fire(ctx context.Context, now time.Time) error {
	mgr := l.m.API.Incident.Manager
	if mgr == nil {
		return nil
	}
	var services []string
	for _, s := range l.m.Config.Get().Catalog.Services {
		if _, ok := measuredServices[s.Name]; !ok {
			services = append(services, s.Name)
		}
	}
	if len(services) == 0 {
		return nil
	}
	service := services[l.rng.IntN(len(services))]
	a := liveAlerts[l.rng.IntN(len(liveAlerts))]
	l.alertSeq++
	key := fmt.Sprintf("demo-%d-%d", now.Unix(), l.alertSeq)
	in := incident.AlertInput{Source: "demo", GroupKey: key, Fingerprint: key, Service: service, Severity: "sev3",
		Title: a.title + " on " + service, Summary: a.summary, Status: incident.Firing, StartsAt: now,
		Labels: map[string]string{"alertname": a.name, "service": service, "severity": "warning", "demo": "live"}}
	if _, err := mgr.Alert(ctx, in); err != nil {
		return fmt.Errorf("demo alert on %s: %w", service, err)
	}
	l.alerts = append(l.alerts, liveAlert{in: in, resolve: now.Add(time.Duration(4+l.rng.IntN(6)) * time.Minute)})
	l.log.Info("demo alert fired", "service", service, "alert", a.name)
	return nil
}

func (l *Live) resolveAlerts(ctx context.Context, now time.Time) error {
	mgr := l.m.API.Incident.Manager
	keep := l.alerts[:0]
	for _, a := range l.alerts {
		if now.Before(a.resolve) || mgr == nil {
			keep = append(keep, a)
			continue
		}
		in := a.in
		in.Status = incident.AlertClosed
		if _, err := mgr.Alert(ctx, in); err != nil {
			return fmt.Errorf("demo alert on %s: %w", in.Service, err)
		}
	}
	l.alerts = keep
	return nil
}

// Sink receives the demo's pages instead of Slack, email or a phone: the
// demo configures no channel, and a page it sent nowhere would fail and
// warn in the log at every retry. Each page is recorded on its incident's
// timeline as delivered (the dashboard's "Pages sent") and logged once.
type Sink struct {
	Log *slog.Logger

	mu    sync.Mutex
	pages []incident.Page
}

// Register makes the sink deliver every contact method type's pages.
func (s *Sink) Register(mgr *incident.Manager) {
	for _, t := range []string{oncall.ContactSlack, oncall.ContactEmail, oncall.ContactWebhook, oncall.ContactSMS,
		oncall.ContactVoice, oncall.ContactTeams, oncall.ContactMattermost} {
		mgr.SetPager(t, s)
	}
}

// Page records p.
func (s *Sink) Page(ctx context.Context, p incident.Page) error {
	s.mu.Lock()
	s.pages = append(s.pages, p)
	s.mu.Unlock()
	if s.Log != nil {
		s.Log.Info("demo page delivered to the in-process sink", "incident", p.Incident.ID, "person", p.Person, "method", p.Method.Name)
	}
	return nil
}

// Pages returns the pages received so far.
func (s *Sink) Pages() []incident.Page {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]incident.Page(nil), s.pages...)
}

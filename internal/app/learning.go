package app

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/okr"
	"github.com/tandemhq/tandem/internal/oncall"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/toil"
)

// wireLearning builds the postmortems, action items, toil and reliability
// OKRs capability: the postmortem service (its close hook on the incident
// manager, its job kinds on the engine, the overdue-reminder module), the
// toil store, the OKR metrics bound to the SLO, DORA, incident and toil
// data, and the API deps.
func (m *Main) wireLearning(ctx context.Context) error {
	toilStore := toil.NewStore(m.DB)
	m.API.Learning.Toil = toilStore
	changes := m.API.Change.Store
	if changes == nil {
		changes = change.NewStore(m.DB)
	}
	mgr := m.API.Incident.Manager
	sloSvc := m.API.SLO.Service
	cat := func() *catalog.Catalog { return m.Config.Get().Catalog }

	if mgr != nil {
		pm := &postmortem.Service{
			Store: postmortem.NewStore(m.DB), Incidents: mgr, Changes: changes,
			Catalog: cat, Clock: m.Options.Clock, Log: m.Options.Log.With("module", "postmortem"),
			Settings: func() postmortem.Settings { return postmortemSettings(m.Config.Get().Learning.Postmortem) },
		}
		if sloSvc != nil {
			pm.Budgets = sloBudgets{sloSvc}
		}
		pm.Notifier = &ownerNotifier{catalog: cat, clock: m.Options.Clock, sender: notify.NewSender(smtpOf(m.Config.Get().Incident), nil),
			smtp: func() notify.SMTP { return smtpOf(m.Config.Get().Incident) }}
		pm.Register(m.Engine)
		mgr.OnClose(pm.CloseHook)
		m.API.Learning.Postmortems = pm
		every := m.Config.Get().Learning.Postmortem.RemindEvery
		if every <= 0 {
			every = time.Hour
		}
		every = time.Duration(float64(every) * m.timeScale)
		m.Modules = append(m.Modules, m.Leaders.Loop("postmortem-reminders", every, func(ctx context.Context) error {
			_, err := pm.EnqueueReminders(ctx)
			return err
		}))
	}
	metrics := okr.Metrics{
		okr.ToilHours: func(ctx context.Context, kr okr.KeyResult, s okr.Scope, from, to time.Time) (float64, bool, error) {
			f := toil.Filter{Since: from, Until: to, Team: s.Team, Category: kr.Category}
			entries, err := toilStore.List(ctx, f)
			if err != nil {
				return 0, false, err
			}
			var min int
			for _, e := range entries {
				if len(kr.Services) > 0 && !slices.Contains(kr.Services, e.Service) {
					continue
				}
				min += e.Minutes
			}
			return float64(min) / 60, true, nil
		},
	}
	if mgr != nil {
		metrics[okr.TimeToDetect] = incidentMean(mgr, func(inc incident.Incident) (time.Duration, bool) {
			return inc.DetectedAt.Sub(inc.StartedAt), !inc.DetectedAt.IsZero()
		})
		metrics[okr.RecoveryTime] = incidentMean(mgr, func(inc incident.Incident) (time.Duration, bool) {
			if inc.ResolvedAt == nil {
				return 0, false
			}
			return inc.ResolvedAt.Sub(inc.StartedAt), true
		})
	}
	if m.API.Change.DORA != nil {
		loader := m.API.Change.DORA
		report := func(ctx context.Context, s okr.Scope, from, to time.Time) (dora.Report, error) {
			return loader.Report(ctx, cat(), dora.Query{Services: s.Services, From: from, To: to})
		}
		metrics[okr.ChangeFailureRate] = func(ctx context.Context, kr okr.KeyResult, s okr.Scope, from, to time.Time) (float64, bool, error) {
			r, err := report(ctx, s, from, to)
			if err != nil || r.ChangeFailureRate == nil {
				return 0, false, err
			}
			return *r.ChangeFailureRate, true, nil
		}
		metrics[okr.DeployFrequency] = func(ctx context.Context, kr okr.KeyResult, s okr.Scope, from, to time.Time) (float64, bool, error) {
			r, err := report(ctx, s, from, to)
			if err != nil || r.Deploys == 0 {
				return 0, false, err
			}
			return r.DeploymentFrequencyPerDay, true, nil
		}
	}
	if sloSvc != nil {
		metrics[okr.SLOAttainment] = sloAttainment(sloSvc)
		metrics[okr.SafeLaunches] = safeLaunches(sloSvc, changes)
	}
	m.API.Learning.OKRMetrics = metrics
	if m.API.Oncall.Service != nil {
		svc := m.API.Oncall.Service
		m.API.Learning.OncallHours = func(ctx context.Context, from, to time.Time) (map[string]float64, error) {
			return oncallHours(ctx, svc, from, to)
		}
	}
	return nil
}

// postmortemSettings turns the config into the service's settings; the
// GitHub token is read from the variable the config names, never from the
// config itself.
func postmortemSettings(c config.PostmortemConfig) postmortem.Settings {
	st := postmortem.Settings{MinSeverity: c.MinSeverity, ServiceSeverity: c.ServiceSeverity, Templates: c.Templates,
		Lookback: c.Lookback, Directory: c.Directory, Extra: c.Fields}
	if g := c.GitHub; g != nil {
		st.GitHub = &postmortem.GitHub{BaseURL: g.APIURL, Repo: g.Repository, Token: os.Getenv(g.TokenEnv), Labels: g.Labels}
	}
	return st
}

// incidentMean measures the mean of a duration over the incidents that
// started in [from, to) on the scope's services, in minutes.
func incidentMean(mgr *incident.Manager, dur func(incident.Incident) (time.Duration, bool)) okr.MetricFunc {
	return func(ctx context.Context, kr okr.KeyResult, s okr.Scope, from, to time.Time) (float64, bool, error) {
		incs, err := mgr.List(ctx, incident.Filter{Since: from, Until: to, Limit: 10000})
		if err != nil {
			return 0, false, err
		}
		var sum time.Duration
		n := 0
		for _, inc := range incs {
			if len(s.Services) > 0 && !slices.ContainsFunc(inc.Services, func(x string) bool { return slices.Contains(s.Services, x) }) {
				continue
			}
			if d, ok := dur(inc); ok && d >= 0 {
				sum += d
				n++
			}
		}
		if n == 0 {
			return 0, false, nil
		}
		return (sum / time.Duration(n)).Minutes(), true, nil
	}
}

// sloDefs returns the SLOs a key result measures: the named one, or those
// of the scope's services.
func sloDefs(svc *slo.Service, kr okr.KeyResult, s okr.Scope) []*slo.Definition {
	var out []*slo.Definition
	for _, d := range svc.Definitions() {
		if kr.SLO != "" {
			if d.Name == kr.SLO {
				out = append(out, d)
			}
			continue
		}
		if len(s.Services) == 0 || slices.Contains(s.Services, d.Service) {
			out = append(out, d)
		}
	}
	return out
}

// clampHistory keeps a history query inside what the SLO store retains.
func clampHistory(from, to time.Time) time.Time {
	if to.Sub(from) > slo.HourRetention-time.Hour {
		return to.Add(-(slo.HourRetention - time.Hour))
	}
	return from
}

// sloAttainment is good/total over [from, to) from the SLOs' hourly
// history; with several SLOs in scope the worst one counts.
func sloAttainment(svc *slo.Service) okr.MetricFunc {
	return func(ctx context.Context, kr okr.KeyResult, s okr.Scope, from, to time.Time) (float64, bool, error) {
		worst, found := 1.0, false
		for _, d := range sloDefs(svc, kr, s) {
			pts, err := svc.History(ctx, d.Name, clampHistory(from, to), to)
			if err != nil {
				continue // no data for this SLO (source down, too old)
			}
			var good, total float64
			for _, p := range pts {
				good += p.Good
				total += p.Total
			}
			if total > 0 {
				found = true
				worst = min(worst, good/total)
			}
		}
		return worst, found, nil
	}
}

// budgetSpent is the share of d's budget spent in [from, to) by its
// hourly history: remaining before minus remaining after (hour resolution).
func budgetSpent(ctx context.Context, svc *slo.Service, d *slo.Definition, from, to time.Time) (float64, bool) {
	pts, err := svc.History(ctx, d.Name, from.Truncate(time.Hour).Add(-time.Hour), to.Truncate(time.Hour).Add(time.Hour))
	if err != nil || len(pts) < 2 {
		return 0, false
	}
	before, after := pts[0].Remaining, pts[len(pts)-1].Remaining
	if before == nil || after == nil {
		return 0, false // a window without events has no budget to compare
	}
	spent := *before - *after
	return max(spent, 0), true
}

// safeLaunches is the share of launches (deploys carrying the label,
// default "feature") after which the service's SLOs spent under the
// threshold (default 5%) of their budget in the next 24 hours.
func safeLaunches(svc *slo.Service, changes *change.Store) okr.MetricFunc {
	return func(ctx context.Context, kr okr.KeyResult, s okr.Scope, from, to time.Time) (float64, bool, error) {
		label := kr.Label
		if label == "" {
			label = "feature"
		}
		threshold := kr.BudgetThreshold
		if threshold == 0 {
			threshold = 0.05
		}
		evs, err := changes.List(ctx, change.Filter{Services: s.Services, Kinds: []string{change.KindDeploy}, Since: from, Until: to, Limit: 100000})
		if err != nil {
			return 0, false, err
		}
		var launches, safe int
		for _, e := range evs {
			if !e.HasLabel(label) {
				continue
			}
			launches++
			ok := !e.Failed()
			for _, d := range sloDefs(svc, kr, okr.Scope{Services: []string{e.Service}}) {
				if spent, known := budgetSpent(ctx, svc, d, e.At(), e.At().Add(24*time.Hour)); known && spent >= threshold {
					ok = false
				}
			}
			if ok {
				safe++
			}
		}
		if launches == 0 {
			return 0, false, nil
		}
		return float64(safe) / float64(launches), true, nil
	}
}

// sloBudgets adapts the SLO service to postmortem.BudgetReader.
type sloBudgets struct{ svc *slo.Service }

func (b sloBudgets) BudgetConsumed(ctx context.Context, services []string, from, to time.Time) ([]postmortem.SLOImpact, error) {
	var out []postmortem.SLOImpact
	for _, d := range b.svc.Definitions() {
		if !slices.Contains(services, d.Service) {
			continue
		}
		if spent, ok := budgetSpent(ctx, b.svc, d, from, to); ok {
			out = append(out, postmortem.SLOImpact{Name: d.Name, Service: d.Service, Consumed: spent})
		}
	}
	return out, nil
}

// oncallHours sums each person's on-call shifts in [from, to) over every
// schedule.
func oncallHours(ctx context.Context, svc *oncall.Service, from, to time.Time) (map[string]float64, error) {
	dir, err := svc.DirectoryAt(ctx, to)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, s := range dir.Schedules() {
		for _, sh := range s.Shifts(from, to) {
			start, end := sh.Start, sh.End
			if start.Before(from) {
				start = from
			}
			if end.After(to) {
				end = to
			}
			if end.After(start) {
				out[sh.Person] += end.Sub(start).Hours()
			}
		}
	}
	return out, nil
}

// ownerNotifier emails an overdue action item's owner (their catalog email)
// through the notification sender; owners without an email, or a server
// without SMTP, are skipped with a log line by the caller's next run.
type ownerNotifier struct {
	catalog func() *catalog.Catalog
	clock   clock.Clock
	sender  *notify.Sender
	smtp    func() notify.SMTP
}

func (n *ownerNotifier) NotifyOwner(ctx context.Context, it postmortem.ActionItem, title string) error {
	p, ok := n.catalog().Person(it.Owner)
	if !ok || p.Email == "" {
		return nil // nobody to tell; the item stays listed as overdue
	}
	if n.smtp().Addr == "" {
		return nil
	}
	n.sender.SetSMTP(n.smtp())
	due := ""
	if it.Due != nil {
		due = it.Due.Format("2006-01-02")
	}
	msg := notify.Message{
		DeliveryID: fmt.Sprintf("action-item-%d-%s", it.ID, n.clock.Now().UTC().Format("2006-01-02")),
		Event:      "action_item.overdue",
		Title:      "Overdue action item: " + it.Title,
		Text:       fmt.Sprintf("Due %s. From the postmortem %q. Mark it done with: tandem actions done %d", due, title, it.ID),
		Recipient:  it.Owner,
		IncidentID: it.IncidentID,
		SentAt:     n.clock.Now().UTC(),
	}
	return n.sender.Send(ctx, notify.Channel{Type: notify.Email, To: p.Email}, msg)
}

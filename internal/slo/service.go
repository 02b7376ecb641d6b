package slo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/clock"
)

// Source reads an SLO's data from where its indicator lives.
type Source interface {
	// Data returns the SLO's data for evaluation at now.
	Data(ctx context.Context, def *Definition, now time.Time) (Data, error)
	// Hours returns hourly counts in [from, to), for history.
	Hours(ctx context.Context, def *Definition, from, to time.Time) ([]Bucket, error)
}

// ChangeOutcome is one finished change event as an SLI reads it.
type ChangeOutcome struct {
	At      time.Time
	Success bool
}

// ChangeLister reads finished change events of a kind for a service (the
// change capability's store, adapted in internal/app).
type ChangeLister interface {
	ChangeOutcomes(ctx context.Context, service, kind, environment string, from, to time.Time) ([]ChangeOutcome, error)
}

// AlertEvent is a burn-rate alert firing or resolving, for the incident
// capability.
type AlertEvent struct {
	SLO, Service string
	Severity     string // "page" or "ticket"
	Status       string // "firing" or "resolved"
	Title        string
	Summary      string
	StartsAt     time.Time
	Labels       map[string]string
}

// AlertSink receives burn-rate alerts; internal/app connects it to
// incidents. Send is called once when an alert starts firing and once when
// it resolves (again after a failure, on the next evaluation).
type AlertSink interface {
	Send(ctx context.Context, e AlertEvent) error
}

// Options build a Service.
type Options struct {
	Store *Store
	// Definitions returns the SLOs of the live config.
	Definitions func() []*Definition
	// Prometheus reads Prometheus-backed SLOs (nil: they report an error).
	Prometheus Source
	// Changes reads migration events (nil: change-based SLOs have no data).
	Changes ChangeLister
	// Sink receives page alerts (nil: none are sent).
	Sink     AlertSink
	Registry prometheus.Registerer
	Log      *slog.Logger
	Clock    clock.Clock
	// Interval between evaluations of the background module (default 1m).
	Interval time.Duration
	// QueryTimeout bounds one SLO's reads (default 10s).
	QueryTimeout time.Duration
}

// Service evaluates SLOs and keeps the latest result of each for freeze
// checks and /metrics. It is safe for concurrent use.
type Service struct {
	o      Options
	native *nativeSource

	mu      sync.RWMutex
	last    map[string]Status
	lastErr map[string]string // the last read error per SLO, to log changes only
	// exported is the latest cycle's statuses, which /metrics reports.
	exported []Status
	// lastPrune is when Cycle last pruned native data.
	lastPrune time.Time
}

// NewService builds a Service and registers its gauges.
func NewService(o Options) (*Service, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 10 * time.Second
	}
	s := &Service{o: o, native: newNativeSource(o.Store), last: map[string]Status{}, lastErr: map[string]string{}}
	if o.Registry != nil {
		ec := evaluatorCollector{store: o.Store, clock: o.Clock, interval: o.Interval, log: o.Log}
		for _, c := range []prometheus.Collector{collector{s}, infoCollector{s.Definitions}, ec} {
			if err := o.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("register SLO metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Definitions returns the SLOs of the live config, sorted by name.
func (s *Service) Definitions() []*Definition {
	if s.o.Definitions == nil {
		return nil
	}
	defs := append([]*Definition(nil), s.o.Definitions()...)
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs
}

// Definition returns the SLO named name, or a not_found *tandem.Error
// naming close names.
func (s *Service) Definition(name string) (*Definition, error) {
	defs := s.Definitions()
	names := make([]string, len(defs))
	for i, d := range defs {
		if d.Name == name {
			return d, nil
		}
		names[i] = d.Name
	}
	msg := "no SLO named " + name
	if c := catalog.Closest(name, names, 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(c, ", ") + "?"
	}
	return nil, tandem.Errorf(tandem.ENotFound, "%s", msg)
}

func (s *Service) source(def *Definition) (Source, error) {
	switch def.Indicator.Source {
	case SourceNative:
		return s.native, nil
	case SourceChanges:
		return changeSource{s.o.Changes}, nil
	case SourcePrometheus:
		if s.o.Prometheus == nil {
			return nil, errors.New("no Prometheus source configured")
		}
		return s.o.Prometheus, nil
	}
	return nil, fmt.Errorf("unknown SLI source %q", def.Indicator.Source)
}

// evaluate reads one SLO's data and evaluates it. A source that cannot be
// read gives a no_data Status with Error set, not an error: one broken
// Prometheus must not hide the other SLOs.
func (s *Service) evaluate(ctx context.Context, def *Definition, now time.Time) Status {
	return s.evaluateSynced(ctx, def, now, 0)
}

// evaluateSynced is evaluate within a cycle whose native sync was cycle
// (0: none).
func (s *Service) evaluateSynced(ctx context.Context, def *Definition, now time.Time, cycle uint64) Status {
	ctx, cancel := context.WithTimeout(ctx, s.o.QueryTimeout)
	defer cancel()
	src, err := s.source(def)
	var data Data
	if err == nil {
		if def.Indicator.Source == SourceNative {
			data, err = s.native.data(ctx, def, now, cycle)
		} else {
			data, err = src.Data(ctx, def, now)
		}
	}
	if err != nil {
		ser := NewSeries(now, now, nil, nil)
		st := Unreadable(Evaluate(def, &ser, now), err)
		s.mu.Lock()
		changed := s.lastErr[def.Name] != err.Error()
		s.lastErr[def.Name] = err.Error()
		s.mu.Unlock()
		// A source that stays down is logged once, not every cycle; the
		// status carries the error for the API and dashboard meanwhile.
		if changed {
			s.o.Log.Warn("SLO evaluation: source unreadable", "slo", def.Name, "err", err)
		}
		return st
	}
	st := Evaluate(def, data, now)
	if s.o.Store != nil && usesHolds(def) {
		if h, err := s.o.Store.Holds(ctx, def.Name); err != nil {
			s.o.Log.Warn("SLO evaluation: alert holds unreadable; held conditions are pending", "slo", def.Name, "err", err)
		} else {
			st.applyHolds(h, now)
		}
	}
	s.mu.Lock()
	// A status at a past instant (a time range, history) answers for
	// that instant; the latest evaluation, which freezes read, stays.
	if prev, ok := s.last[def.Name]; !ok || !now.Before(prev.EvaluatedAt) {
		s.last[def.Name] = st
	}
	if _, was := s.lastErr[def.Name]; was {
		delete(s.lastErr, def.Name)
		s.o.Log.Info("SLO evaluation: source readable again", "slo", def.Name)
	}
	s.mu.Unlock()
	return st
}

// Status evaluates the SLO named name at now.
func (s *Service) Status(ctx context.Context, name string, now time.Time) (Status, error) {
	def, err := s.Definition(name)
	if err != nil {
		return Status{}, err
	}
	return s.evaluate(ctx, def, now), nil
}

// StatusAll evaluates every SLO at now, sorted by name, four at a time.
// The native SLOs' data is brought up to date first, in two queries for
// all of them (see nativeSource.sync).
func (s *Service) StatusAll(ctx context.Context, now time.Time) ([]Status, error) {
	defs := s.Definitions()
	var native []*Definition
	for _, d := range defs {
		if d.Indicator.Source == SourceNative {
			native = append(native, d)
		}
	}
	cycle, err := s.native.sync(ctx, native, now)
	if err != nil && ctx.Err() == nil {
		// Each SLO then reads its own data, and reports its own error.
		s.o.Log.Warn("SLO evaluation: native data sync failed", "err", err)
	}
	// Four workers take the SLOs in turn (a goroutine each would grow a
	// fresh stack per SLO).
	out := make([]Status, len(defs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(4, len(defs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(defs); i = int(next.Add(1) - 1) {
				out[i] = s.evaluateSynced(ctx, defs[i], now, cycle)
			}
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}

// History returns one point per hour in (from, to] for the SLO named name:
// that hour's SLI and the budget remaining over the window ending then.
func (s *Service) History(ctx context.Context, name string, from, to time.Time) ([]HistoryPoint, error) {
	def, err := s.Definition(name)
	if err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, tandem.FieldErrorf("from", "from must be before to")
	}
	if to.Sub(from) > HourRetention {
		return nil, tandem.FieldErrorf("from", "history covers at most %d days", int(HourRetention.Hours()/24))
	}
	src, err := s.source(def)
	if err != nil {
		return nil, tandem.Errorf(tandem.EUnavailable, "SLO %s: %v", name, err)
	}
	ws, _ := def.Window.Bounds(from)
	hours, err := src.Hours(ctx, def, ws.Truncate(time.Hour), to)
	if err != nil {
		return nil, tandem.Errorf(tandem.EUnavailable, "SLO %s: reading history failed: %v", name, err)
	}
	pts := History(def, hours, from, to)
	if pts == nil {
		pts = []HistoryPoint{}
	}
	return pts, nil
}

// Frozen reports whether service is in release freeze in production, by
// the latest evaluation of its SLOs, and why (FrozenIn).
func (s *Service) Frozen(service string) (bool, string) {
	return s.FrozenIn(service, DefaultEnvironment)
}

// FrozenIn reports whether service is in release freeze in environment, by
// the latest evaluation of its SLOs there, and why (every freezing SLO's
// reason, joined). SLOs of other environments never freeze it.
func (s *Service) FrozenIn(service, environment string) (bool, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var reasons []string
	for _, st := range s.last {
		if st.Service == service && st.Environment == environment && st.Freeze.Active {
			reasons = append(reasons, st.Freeze.Reason)
		}
	}
	sort.Strings(reasons)
	return len(reasons) > 0, strings.Join(reasons, "; ")
}

// FreezeAt evaluates the production SLOs of service at now and reports its
// freeze (FreezeIn).
func (s *Service) FreezeAt(ctx context.Context, service string, now time.Time) Freeze {
	return s.FreezeIn(ctx, service, DefaultEnvironment, now)
}

// FreezeIn evaluates the SLOs of service in environment at now and
// reports its freeze there.
func (s *Service) FreezeIn(ctx context.Context, service, environment string, now time.Time) Freeze {
	var reasons []string
	for _, d := range s.Definitions() {
		if d.Service != service || d.Env() != environment {
			continue
		}
		if st := s.evaluate(ctx, d, now); st.Freeze.Active {
			reasons = append(reasons, st.Freeze.Reason)
		}
	}
	return Freeze{Active: len(reasons) > 0, Reason: strings.Join(reasons, "; ")}
}

// StatusIn evaluates at now the SLOs of environment (every environment
// when ""), of service when service is not "", sorted by name.
func (s *Service) StatusIn(ctx context.Context, service, environment string, now time.Time) ([]Status, error) {
	all, err := s.StatusAll(ctx, now)
	if err != nil {
		return nil, err
	}
	return FilterStatus(all, service, environment), nil
}

// FilterStatus keeps the statuses of service (any when "") in environment
// (any when "").
func FilterStatus(sts []Status, service, environment string) []Status {
	out := []Status{}
	for _, st := range sts {
		if (service == "" || st.Service == service) && (environment == "" || st.Environment == environment) {
			out = append(out, st)
		}
	}
	return out
}

// Last returns the latest evaluation of every SLO, sorted by name.
func (s *Service) Last() []Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Status, 0, len(s.last))
	for _, st := range s.last {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EvaluateOnce evaluates every SLO at now, updates the gauges, and raises
// or resolves page alerts through the sink. The background module calls it
// every Interval; tests call it with a fake now.
func (s *Service) EvaluateOnce(ctx context.Context, now time.Time) ([]Status, error) {
	sts, err := s.StatusAll(ctx, now)
	if err != nil {
		return nil, err
	}
	// Forget SLOs removed from the config.
	keep := map[string]bool{}
	for _, st := range sts {
		keep[st.Name] = true
	}
	s.mu.Lock()
	for n := range s.last {
		if !keep[n] {
			delete(s.last, n)
		}
	}
	s.mu.Unlock()
	s.native.forget(keep)
	s.setGauges(sts)
	if s.o.Store != nil {
		if err := s.o.Store.MarkEvaluated(ctx, s.o.Clock.Now()); err != nil {
			s.o.Log.Warn("SLO evaluation: recording its finish failed", "err", err)
		}
	}
	if err := errors.Join(s.syncHolds(ctx, sts, now), s.syncAlerts(ctx, sts, now)); err != nil {
		return sts, err
	}
	return sts, nil
}

// syncHolds stores since when each condition with an alertAfter holds, as
// the statuses of this evaluation say (they were completed from the stored
// holds, so a condition that held before keeps its start). An SLO whose
// source could not be read keeps its holds; a removed SLO loses them.
func (s *Service) syncHolds(ctx context.Context, sts []Status, now time.Time) error {
	if s.o.Store == nil {
		return nil
	}
	stored, err := s.o.Store.AllHolds(ctx)
	if err != nil {
		return err
	}
	var errs []error
	seen := map[string]bool{}
	for i := range sts {
		st := &sts[i]
		seen[st.Name] = true
		if st.Error != "" {
			continue
		}
		h := heldNow(st, stored[st.Name], now)
		if !equalHolds(h, stored[st.Name]) {
			errs = append(errs, s.o.Store.SetHolds(ctx, st.Name, h))
		}
	}
	for name := range stored {
		if !seen[name] {
			errs = append(errs, s.o.Store.SetHolds(ctx, name, nil))
		}
	}
	return errors.Join(errs...)
}

// Severities of the alerts the evaluator raises.
var severities = []string{"page", "ticket"}

// Alert names, for tandem's own alerts and the rules of `tandem slo rules`.
const (
	AlertNamePage   = "SLOBurnRatePage"
	AlertNameTicket = "SLOBurnRateTicket"
)

// setGauges makes sts what /metrics reports (see collector).
func (s *Service) setGauges(sts []Status) {
	s.mu.Lock()
	s.exported = sts
	s.mu.Unlock()
}

// syncAlerts sends a firing event for each alert (page or ticket) that
// fires and was not raised, and a resolved event for each raised alert
// that no longer fires (or whose SLO is gone, or whose alerts Prometheus
// raises now: slo_settings.evaluator). Evaluation errors leave an alert as
// it is. The incident capability decides what an event opens: one incident
// per SLO and severity, whichever path (this or Alertmanager) reports it
// first, and nothing for a ticket unless configured to.
func (s *Service) syncAlerts(ctx context.Context, sts []Status, now time.Time) error {
	if s.o.Sink == nil || s.o.Store == nil {
		return nil
	}
	raised, err := s.o.Store.Raised(ctx)
	if err != nil {
		return err
	}
	defs := map[string]*Definition{}
	for _, d := range s.Definitions() {
		defs[d.Name] = d
	}
	var errs []error
	seen := map[string]bool{}
	for _, st := range sts {
		for _, sev := range severities {
			key := st.Name + "/" + sev
			seen[key] = true
			if st.Error != "" {
				continue
			}
			alert := st.Alerts.Page
			if sev == "ticket" {
				alert = st.Alerts.Ticket
			}
			firing := alert.Firing
			if d := defs[st.Name]; d != nil && !d.RaisesAlerts() {
				firing = false
			}
			a, was := raised[key]
			switch {
			case firing && !was:
				ev := AlertEvent{SLO: st.Name, Service: st.Service, Severity: sev, Status: "firing", StartsAt: now,
					Title:   alertTitle(st.Name, sev),
					Summary: fmt.Sprintf("%s. %s of the error budget is left (status %s).", alert.Reason, formatPercentOf(st.ErrorBudget.Remaining), st.Status),
					Labels:  alertLabels(defs[st.Name], st.Name, st.Service, sev)}
				if err := s.o.Sink.Send(ctx, ev); err != nil {
					errs = append(errs, fmt.Errorf("raise %s alert for %s: %w", sev, st.Name, err))
					continue
				}
				errs = append(errs, s.o.Store.SetRaised(ctx, AlertState{SLO: st.Name, Severity: sev, FiringSince: now, Reason: alert.Reason}, true))
			case !firing && was:
				errs = append(errs, s.resolve(ctx, a, defs[st.Name], st.Service, now))
			}
		}
	}
	for key, a := range raised {
		if !seen[key] {
			errs = append(errs, s.resolve(ctx, a, nil, "", now))
		}
	}
	return errors.Join(errs...)
}

// alertTitle is the title of an SLO's alert of a severity, the summary of
// the rule `tandem slo rules` writes for it.
func alertTitle(slo, severity string) string {
	if severity == "ticket" {
		return fmt.Sprintf("SLO %s is burning its error budget steadily", slo)
	}
	return fmt.Sprintf("SLO %s is burning its error budget fast", slo)
}

// alertLabels are the labels of an SLO's alert, those of the alert the
// rules of `tandem slo rules` raise: the SLO's own labels, then slo,
// service, severity and alertname.
func alertLabels(def *Definition, slo, service, severity string) map[string]string {
	l := map[string]string{}
	if def != nil {
		for k, v := range def.Labels {
			l[k] = v
		}
	}
	l["slo"], l["service"], l["severity"] = slo, service, severity
	if def != nil && l["environment"] == "" {
		// Incidents take their environment from this label, so suspects
		// of a staging SLO's incident come from staging only.
		l["environment"] = def.Env()
	}
	l["alertname"] = AlertNamePage
	if severity == "ticket" {
		l["alertname"] = AlertNameTicket
	}
	return l
}

func (s *Service) resolve(ctx context.Context, a AlertState, def *Definition, service string, now time.Time) error {
	ev := AlertEvent{SLO: a.SLO, Service: service, Severity: a.Severity, Status: "resolved", StartsAt: a.FiringSince,
		Title:   alertTitle(a.SLO, a.Severity),
		Summary: fmt.Sprintf("The burn rate is back under the %s thresholds at %s.", a.Severity, now.UTC().Format(time.RFC3339)),
		Labels:  alertLabels(def, a.SLO, service, a.Severity)}
	if err := s.o.Sink.Send(ctx, ev); err != nil {
		return fmt.Errorf("resolve alert for %s: %w", a.SLO, err)
	}
	return s.o.Store.SetRaised(ctx, a, false)
}

// Name names the background module.
func (s *Service) Name() string { return "slo-evaluator" }

// Run evaluates every SLO each Interval until ctx ends (see Cycle). With
// several replicas the app runs Cycle on the leader only instead.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		_ = s.Cycle(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Interval is the time between two evaluation cycles.
func (s *Service) Interval() time.Duration { return s.o.Interval }

// Cycle evaluates every SLO once, and prunes native data when the last
// prune is an hour old. A failed cycle is logged; the next one tries again.
func (s *Service) Cycle(ctx context.Context) error {
	now := s.o.Clock.Now()
	s.cycle(ctx, now)
	s.mu.Lock()
	due := now.Sub(s.lastPrune) >= time.Hour
	if due {
		s.lastPrune = now
	}
	s.mu.Unlock()
	if s.o.Store != nil && due {
		if _, err := s.o.Store.Prune(ctx, now); err != nil && ctx.Err() == nil {
			s.o.Log.Warn("SLO data prune failed", "err", err)
		}
	}
	return nil
}

func (s *Service) cycle(ctx context.Context, now time.Time) {
	defer func() {
		if p := recover(); p != nil {
			s.o.Log.Error("SLO evaluation panicked", "panic", p)
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, s.o.Interval+s.o.QueryTimeout)
	defer cancel()
	if _, err := s.EvaluateOnce(cctx, now); err != nil && ctx.Err() == nil {
		s.o.Log.Warn("SLO evaluation failed", "err", err)
	}
}

// changeSource counts migration outcomes: a success is a good event, every
// finished migration an event.
type changeSource struct{ c ChangeLister }

func (c changeSource) buckets(ctx context.Context, def *Definition, from, to time.Time) ([]Bucket, error) {
	if c.c == nil {
		return nil, nil
	}
	outs, err := c.c.ChangeOutcomes(ctx, def.Service, def.Indicator.ChangeKind, def.Indicator.Environment, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, 0, len(outs))
	for _, o := range outs {
		b := Bucket{Start: o.At.UTC().Truncate(time.Minute), Counts: Counts{Total: 1}}
		if o.Success {
			b.Good = 1
		}
		out = append(out, b)
	}
	return out, nil
}

func (c changeSource) Data(ctx context.Context, def *Definition, now time.Time) (Data, error) {
	from, _ := def.Window.Bounds(now)
	hs, _, end := SeriesLayout(from, now)
	bs, err := c.buckets(ctx, def, hs, end)
	if err != nil {
		return nil, err
	}
	ser := NewSeries(from, now, nil, bs)
	return &ser, nil
}

func (c changeSource) Hours(ctx context.Context, def *Definition, from, to time.Time) ([]Bucket, error) {
	bs, err := c.buckets(ctx, def, from, to)
	for i := range bs {
		bs[i].Start = bs[i].Start.Truncate(time.Hour)
	}
	return bs, err
}

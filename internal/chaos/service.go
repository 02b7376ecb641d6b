package chaos

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/slo"
)

// SLOs evaluates the live SLOs (*slo.Service).
type SLOs interface {
	Definitions() []*slo.Definition
	Status(ctx context.Context, name string, now time.Time) (slo.Status, error)
}

// Service runs the server side of chaos experiments: the steady-state
// check, the change event, observation while the fault runs, and the
// verdict stored on the change.
type Service struct {
	Changes *change.Store
	Store   *Store
	SLOs    SLOs
	Reader  gate.WindowReader
	Clock   clock.Clock
}

// StartInput asks to start a chaos run.
type StartInput struct {
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Name        string `json:"name"`
	Command     string `json:"command"`
	Actor       string `json:"actor"`
	// Cooldown is how long the SLIs are watched after the fault ends
	// (default 5m, at most 1d).
	Cooldown      string  `json:"cooldown"`
	AbortBurnRate float64 `json:"abort_burn_rate"`
	// DegradedShare is the share of an SLO's budget above which the run
	// is degraded (default DefaultDegradedShare).
	DegradedShare float64 `json:"degraded_share"`
}

// DefaultCooldown is how long a run watches the SLIs after the fault.
const DefaultCooldown = 5 * time.Minute

// SteadyState is one SLO's state before a run.
type SteadyState struct {
	SLO    string `json:"slo"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// judges returns the SLOs that judge an experiment on service in env: its
// SLOs there measured from requests.
func (s *Service) judges(service, env string) []*slo.Definition {
	var out []*slo.Definition
	for _, d := range s.SLOs.Definitions() {
		if d.Service == service && d.Env() == env && d.Indicator.Source != slo.SourceChanges {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (in *StartInput) normalize() (time.Duration, error) {
	in.Service, in.Name = strings.TrimSpace(in.Service), strings.TrimSpace(in.Name)
	if in.Environment == "" {
		in.Environment = slo.DefaultEnvironment
	}
	switch {
	case in.Service == "":
		return 0, tandem.FieldErrorf("service", "required")
	case in.Name == "" || len(in.Name) > 128 || strings.ContainsAny(in.Name, "\n\r"):
		return 0, tandem.FieldErrorf("name", "required: one line of at most 128 characters")
	case len(in.Command) > 4096:
		return 0, tandem.FieldErrorf("command", "longer than 4096 characters")
	case math.IsNaN(in.AbortBurnRate) || in.AbortBurnRate < 0 || in.AbortBurnRate > 1e6:
		return 0, tandem.FieldErrorf("abort_burn_rate", "want a burn rate from 0 (no abort) to 1e6")
	case math.IsNaN(in.DegradedShare) || in.DegradedShare < 0 || in.DegradedShare >= 1:
		return 0, tandem.FieldErrorf("degraded_share", "want a share of the budget from 0 to below 1, such as 0.001")
	}
	if in.DegradedShare == 0 {
		in.DegradedShare = DefaultDegradedShare
	}
	cool := DefaultCooldown
	if in.Cooldown != "" {
		d, err := tandem.ParseDuration(in.Cooldown)
		if err != nil || d < 0 || d > 24*time.Hour {
			return 0, tandem.FieldErrorf("cooldown", "want a duration up to 1d such as 5m, got %q", in.Cooldown)
		}
		cool = d
	}
	in.Cooldown = cool.String()
	return cool, nil
}

// Start checks the steady state and records the run. The service's SLOs
// in the environment (those measured from requests) must all be healthy
// with no page alert firing; otherwise nothing is recorded and the error
// (unprocessable) lists each SLO's state. No SLO at all is refused too: an
// experiment nothing can judge is not run.
func (s *Service) Start(ctx context.Context, in StartInput) (Run, []SteadyState, error) {
	if _, err := in.normalize(); err != nil {
		return Run{}, nil, err
	}
	now := s.Clock.Now()
	defs := s.judges(in.Service, in.Environment)
	if len(defs) == 0 {
		return Run{}, nil, tandem.Errorf(tandem.EUnprocessable, "service %s has no SLO in %s measured from requests: nothing can judge the experiment", in.Service, in.Environment)
	}
	var states []SteadyState
	var problems []string
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
		st, err := s.SLOs.Status(ctx, d.Name, now)
		if err != nil {
			return Run{}, nil, err
		}
		ss := SteadyState{SLO: d.Name, Status: st.Status, Reason: st.Reason}
		if st.Alerts.Page.Firing {
			ss.Reason = strings.TrimSpace(ss.Reason + " page alert firing")
		}
		states = append(states, ss)
		if st.Status != slo.StatusHealthy || st.Alerts.Page.Firing {
			p := fmt.Sprintf("SLO %s is %s", d.Name, st.Status)
			if ss.Reason != "" {
				p += " (" + ss.Reason + ")"
			}
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return Run{}, states, &tandem.Error{Code: tandem.EUnprocessable, Field: "steady_state",
			Message: "steady state not met, the experiment is not run: " + strings.Join(problems, "; "), Details: problems}
	}
	evs, err := s.Changes.Record(ctx, []change.Event{{Service: in.Service, Environment: in.Environment, Kind: change.KindChaos,
		Version: in.Name, Actor: in.Actor, StartedAt: now, Status: change.StatusInProgress, Source: "chaos"}}, now)
	if err != nil {
		return Run{}, nil, err
	}
	r := Run{ID: evs[0].ID, Name: in.Name, Service: in.Service, Environment: in.Environment, Source: SourceTandem,
		Command: in.Command, Actor: in.Actor, StartedAt: evs[0].StartedAt, Status: StatusRunning, Costs: []Cost{},
		Settings: Settings{Cooldown: in.Cooldown, AbortBurnRate: in.AbortBurnRate, DegradedShare: in.DegradedShare, SLOs: names}}
	if err := s.Store.Put(ctx, r, now); err != nil {
		return Run{}, nil, err
	}
	return r, states, nil
}

// measure reads each SLO's data over [from, to). Native data has minute
// resolution: from is taken back to its minute, so the first minute of the
// experiment is read whole.
func (s *Service) measure(ctx context.Context, names []string, from, to time.Time) []SLOData {
	byName := map[string]*slo.Definition{}
	for _, d := range s.SLOs.Definitions() {
		byName[d.Name] = d
	}
	from = from.Truncate(time.Minute)
	out := make([]SLOData, 0, len(names))
	for _, n := range names {
		d := SLOData{SLO: n}
		def := byName[n]
		if def == nil {
			d.Error = "the SLO is no longer configured"
			out = append(out, d)
			continue
		}
		d.Objective, d.Window, d.MinEvents = def.Objective, def.Window.Nominal(), def.Alerting.MinEvents
		for _, c := range def.Alerting.Page {
			if (c.Op == "" || c.Op == "gt" || c.Op == "gte") && (d.PageBurnRate == 0 || c.Threshold < d.PageBurnRate) {
				d.PageBurnRate = c.Threshold
			}
		}
		if !to.After(from) {
			out = append(out, d)
			continue
		}
		w, err := s.Reader.Window(ctx, def, from, to)
		if err != nil {
			d.Error = err.Error()
		}
		d.Good, d.Total = w.Good, w.Total
		out = append(out, d)
	}
	return out
}

// Observation is a running experiment's state: each SLO's burn so far and
// whether the run must abort.
type Observation struct {
	Run    Run       `json:"run"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Costs  []Cost    `json:"costs"`
	Abort  bool      `json:"abort"`
	Reason string    `json:"reason,omitempty"`
}

// Observe reads the SLIs of run id from its start to now, and says whether
// its abort burn rate is passed.
func (s *Service) Observe(ctx context.Context, id int64) (Observation, error) {
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return Observation{}, err
	}
	now := s.Clock.Now()
	data := s.measure(ctx, r.Settings.SLOs, r.StartedAt, now)
	o := Observation{Run: r, From: r.StartedAt.Truncate(time.Minute), To: now,
		Costs: Judge(data, now.Sub(r.StartedAt), r.Settings.DegradedShare, false, "").Costs}
	if r.Status == StatusRunning {
		o.Abort, o.Reason = Abort(data, r.Settings.AbortBurnRate)
	}
	return o, nil
}

// FinishInput ends a run.
type FinishInput struct {
	// Aborted and AbortReason say the run was stopped (burn rate, a
	// signal); an aborted run is broken.
	Aborted     bool   `json:"aborted"`
	AbortReason string `json:"abort_reason"`
	// FaultEnded is when the fault stopped (zero: now minus the
	// cool-down, the CLI's order of things); JudgedUntil the end of the
	// cool-down (zero: now).
	FaultEnded  time.Time `json:"fault_ended,omitzero"`
	JudgedUntil time.Time `json:"judged_until,omitzero"`
	// Failed says the fault command itself failed (it did not run or
	// exited non-zero): the change is recorded failed.
	Failed     bool   `json:"failed"`
	FailReason string `json:"fail_reason"`
}

// Finish judges run id over its start to the end of its cool-down, stores
// the verdict and finishes the change event. A finished run is a conflict.
func (s *Service) Finish(ctx context.Context, id int64, in FinishInput) (Run, error) {
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return Run{}, err
	}
	if r.Status != StatusRunning {
		return Run{}, tandem.Errorf(tandem.EConflict, "chaos run %d is finished already (%s)", id, *r.Verdict)
	}
	if len(in.AbortReason) > 500 || len(in.FailReason) > 500 {
		return Run{}, tandem.FieldErrorf("abort_reason", "at most 500 characters")
	}
	now := s.Clock.Now()
	until := in.JudgedUntil
	if until.IsZero() || until.After(now) {
		until = now
	}
	if until.Before(r.StartedAt) {
		return Run{}, tandem.FieldErrorf("judged_until", "before the run started")
	}
	ended := in.FaultEnded
	if ended.IsZero() || ended.After(until) || ended.Before(r.StartedAt) {
		ended = until
	}
	j := Judge(s.measure(ctx, r.Settings.SLOs, r.StartedAt, until), until.Sub(r.StartedAt), r.Settings.DegradedShare, in.Aborted, in.AbortReason)
	r.Verdict, r.Reason, r.Costs, r.Aborted, r.Status = &j.Verdict, j.Reason, j.Costs, in.Aborted, StatusFinished
	r.FinishedAt, r.JudgedUntil = &ended, &until
	status, reason := change.StatusSuccess, ""
	if in.Failed {
		status, reason = change.StatusFailed, in.FailReason
		if reason == "" {
			reason = "the fault command failed"
		}
	}
	if _, err := s.Changes.Finish(ctx, id, status, reason, ended, now); err != nil {
		return Run{}, err
	}
	if err := s.Store.Put(ctx, r, now); err != nil {
		return Run{}, err
	}
	return s.Store.Get(ctx, id)
}

// List returns the runs matching f.
func (s *Service) List(ctx context.Context, f Filter) ([]Run, error) { return s.Store.List(ctx, f) }

// MinJudgedSpan is the shortest window an imported experiment is judged
// over: native SLI data has minute resolution, and a Schedule's spawn is
// an instant.
const MinJudgedSpan = time.Minute

// Import records reports of a chaos tool as chaos change events with their
// runs. A report's own service and environment (annotations) win over
// service and env; known says whether a service is in the catalog. A
// finished experiment is judged at once over its start to its finish (at
// least MinJudgedSpan, at most up to now) by the service's SLOs in its environment; a running
// one is stored with the tool's verdict and judged when a later report
// finishes it. Nothing is recorded unless every report is valid.
func (s *Service) Import(ctx context.Context, reports []Report, service, env, actor string, known func(string) bool) ([]Run, error) {
	now := s.Clock.Now()
	evs := make([]change.Event, len(reports))
	for i := range reports {
		r := &reports[i]
		if r.Service == "" {
			r.Service = service
		}
		if r.Environment == "" {
			r.Environment = env
		}
		if r.Environment == "" {
			r.Environment = slo.DefaultEnvironment
		}
		if r.Service == "" {
			return nil, tandem.FieldErrorf("service", "required: the report names no service (annotation %s); give ?service=", AnnotationService)
		}
		if known != nil && !known(r.Service) {
			return nil, tandem.FieldErrorf("service", "unknown service %q", r.Service)
		}
		if r.Actor == "" {
			r.Actor = actor
		}
		ev := change.Event{Service: r.Service, Environment: r.Environment, Kind: change.KindChaos, Version: r.Name, Actor: r.Actor,
			StartedAt: r.StartedAt, Source: r.Source, ExternalID: r.ExternalID, Status: change.StatusInProgress}
		if !r.FinishedAt.IsZero() {
			ev.FinishedAt, ev.Status = r.FinishedAt, change.StatusSuccess
		}
		if err := ev.Normalize(fmt.Sprintf("reports[%d].", i), now); err != nil {
			return nil, err
		}
		evs[i] = ev
	}
	if len(evs) == 0 {
		return nil, tandem.FieldErrorf("body", "the report holds no experiment")
	}
	stored, err := s.Changes.Apply(ctx, evs, now)
	if err != nil {
		return nil, err
	}
	out := make([]Run, 0, len(stored))
	for i, ev := range stored {
		rep := reports[i]
		run, err := s.Store.Get(ctx, ev.ID)
		if err != nil && tandem.ErrorCode(err) != tandem.ENotFound {
			return nil, err
		}
		if err != nil {
			names := []string{}
			for _, d := range s.judges(ev.Service, ev.Environment) {
				names = append(names, d.Name)
			}
			run = Run{ID: ev.ID, Name: rep.Name, Service: ev.Service, Environment: ev.Environment, Source: rep.Source,
				StartedAt: ev.StartedAt, Status: StatusRunning, Costs: []Cost{},
				Settings: Settings{DegradedShare: DefaultDegradedShare, SLOs: names}}
		}
		run.ToolVerdict, run.ToolDetail = rep.ToolVerdict, rep.ToolDetail
		if run.Status == StatusRunning && !ev.FinishedAt.IsZero() {
			until := ev.FinishedAt
			if until.Sub(run.StartedAt) < MinJudgedSpan {
				until = run.StartedAt.Add(MinJudgedSpan)
			}
			if until.After(now) {
				until = now
			}
			finished := ev.FinishedAt
			j := Judge(s.measure(ctx, run.Settings.SLOs, run.StartedAt, until), until.Sub(run.StartedAt), run.Settings.DegradedShare, false, "")
			run.Verdict, run.Reason, run.Costs, run.Status = &j.Verdict, j.Reason, j.Costs, StatusFinished
			run.FinishedAt, run.JudgedUntil = &finished, &until
		}
		if err := s.Store.Put(ctx, run, now); err != nil {
			return nil, err
		}
		got, err := s.Store.Get(ctx, ev.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, got)
	}
	return out, nil
}

// Point is an SLO's SLI over one minute of an experiment; SLI is null for
// a minute without events or one that could not be read.
type Point struct {
	T   time.Time `json:"t"`
	SLI *float64  `json:"sli"`
}

// MaxSeriesMinutes caps the minutes Series reads for one run.
const MaxSeriesMinutes = 180

// Series returns each judging SLO's SLI per minute over the run's window
// (its start to the end of its cool-down, or now while it runs), at most
// MaxSeriesMinutes from the start.
func (s *Service) Series(ctx context.Context, r Run) (map[string][]Point, error) {
	from := r.StartedAt.Truncate(time.Minute)
	to := s.Clock.Now()
	if r.JudgedUntil != nil {
		to = *r.JudgedUntil
	}
	if to.Sub(from) > MaxSeriesMinutes*time.Minute {
		to = from.Add(MaxSeriesMinutes * time.Minute)
	}
	out := map[string][]Point{}
	for _, name := range r.Settings.SLOs {
		pts := []Point{}
		for m := from; m.Before(to); m = m.Add(time.Minute) {
			end := m.Add(time.Minute)
			if end.After(to) {
				end = to
			}
			p := Point{T: m}
			for _, d := range s.measure(ctx, []string{name}, m, end) {
				if d.Error == "" && d.Total > 0 {
					v := d.Good / d.Total
					p.SLI = &v
				}
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			pts = append(pts, p)
		}
		out[name] = pts
	}
	return out, nil
}

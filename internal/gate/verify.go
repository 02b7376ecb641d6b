package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/slo"
)

// VerifyOptions are the windows and tolerances of post-deploy verification.
// Zero fields take the defaults of DefaultVerifyOptions.
type VerifyOptions struct {
	// Window after the deploy and Baseline before it.
	Window   time.Duration `json:"window"`
	Baseline time.Duration `json:"baseline"`
	// MinEvents is the least number of events each window needs before a
	// test may decide; fewer make the check inconclusive.
	MinEvents float64 `json:"min_events"`
	// Alpha is the tests' significance level (one-sided).
	Alpha float64 `json:"alpha"`
	// MaxErrorRatioIncrease is the tolerated absolute rise of the error
	// ratio (0.005: half a percentage point) even when significant.
	MaxErrorRatioIncrease float64 `json:"max_error_ratio_increase"`
	// MaxLatencyIncrease is the tolerated relative rise of p95 latency
	// (0.2: 20 %).
	MaxLatencyIncrease float64 `json:"max_latency_increase"`
	// MaxBurnRate is the highest burn rate allowed in the window after the
	// deploy.
	MaxBurnRate float64 `json:"max_burn_rate"`
}

// DefaultVerifyOptions: 15 minutes after against 1 hour before, 100
// events at least, 1 % significance, +0.5 points of error ratio, +20 % p95,
// burn rate 10.
var DefaultVerifyOptions = VerifyOptions{
	Window: 15 * time.Minute, Baseline: time.Hour, MinEvents: 100, Alpha: 0.01,
	MaxErrorRatioIncrease: 0.005, MaxLatencyIncrease: 0.2, MaxBurnRate: 10,
}

// WithDefaults fills zero fields from DefaultVerifyOptions; an alpha of 1
// or more, which no test could fail, takes the default too.
func (o VerifyOptions) WithDefaults() VerifyOptions {
	if o.Alpha >= 1 {
		o.Alpha = 0
	}
	return o.or(DefaultVerifyOptions)
}

// or fills o's zero (or negative) fields from d.
func (o VerifyOptions) or(d VerifyOptions) VerifyOptions {
	if o.Window <= 0 {
		o.Window = d.Window
	}
	if o.Baseline <= 0 {
		o.Baseline = d.Baseline
	}
	if o.MinEvents <= 0 {
		o.MinEvents = d.MinEvents
	}
	if o.Alpha <= 0 {
		o.Alpha = d.Alpha
	}
	if o.MaxErrorRatioIncrease <= 0 {
		o.MaxErrorRatioIncrease = d.MaxErrorRatioIncrease
	}
	if o.MaxLatencyIncrease <= 0 {
		o.MaxLatencyIncrease = d.MaxLatencyIncrease
	}
	if o.MaxBurnRate <= 0 {
		o.MaxBurnRate = d.MaxBurnRate
	}
	return o
}

// WindowData is what an SLI recorded in one span of time.
type WindowData struct {
	Good  float64 `json:"good"`
	Total float64 `json:"total"`
	// Latency is the window's latency distribution (nil: none);
	// HasLatency says whether the SLI records latency.
	Latency    *slo.Latency `json:"-"`
	HasLatency bool         `json:"has_latency"`
}

// Bad is Total - Good, never negative.
func (w WindowData) Bad() float64 { return max(0, w.Total-w.Good) }

func (w WindowData) latencyCount() int64 { return w.Latency.Count() }

// SLIWindows are one SLO's data before and after a deploy.
type SLIWindows struct {
	SLO       string
	Objective float64
	Before    WindowData
	After     WindowData
}

// CompareWindows is the pure core of verification: for each SLO it checks
//
//   - error_ratio: the ratio after against the ratio before with a one-sided
//     two-proportion z-test; it fails when p < Alpha and the rise exceeds
//     MaxErrorRatioIncrease;
//   - p95_latency_ms (SLIs with latency): the histograms with the
//     Mann-Whitney U test; it fails when p < Alpha and p95 rose by more
//     than MaxLatencyIncrease;
//   - burn_rate: the after window's bad ratio over the allowed bad ratio; it
//     fails above MaxBurnRate.
//
// A window with fewer than MinEvents events makes the checks that need it
// inconclusive, never a pass.
func CompareWindows(in []SLIWindows, o VerifyOptions) []Check {
	o = o.WithDefaults()
	var out []Check
	for _, w := range in {
		lowAfter := w.After.Total < o.MinEvents
		lowBefore := w.Before.Total < o.MinEvents
		// Error ratio.
		t := TwoProportionZ(w.Before.Bad(), w.Before.Total, w.After.Bad(), w.After.Total)
		c := Check{Name: "error_ratio " + w.SLO, Op: "<=", Threshold: round6(t.P1 + o.MaxErrorRatioIncrease), Unit: "ratio"}
		if w.After.Total > 0 {
			c.Value = Measured(round6(t.P2))
		}
		switch {
		case lowAfter:
			c.Verdict, c.Detail = Inconclusive, fmt.Sprintf("%.0f events after the deploy, need %.0f", w.After.Total, o.MinEvents)
		case lowBefore:
			c.Verdict, c.Detail = Inconclusive, fmt.Sprintf("%.0f events in the baseline, need %.0f", w.Before.Total, o.MinEvents)
		case t.P < o.Alpha && t.P2-t.P1 > o.MaxErrorRatioIncrease:
			c.Verdict, c.Detail = Fail, fmt.Sprintf("error ratio rose from %s to %s (z = %.2f, p = %.2g)", pct(t.P1), pct(t.P2), t.Z, t.P)
		default:
			c.Verdict = Pass
			c.Detail = fmt.Sprintf("before %s, after %s (p = %.2g)", pct(t.P1), pct(t.P2), t.P)
		}
		out = append(out, c)
		// Latency.
		if w.Before.HasLatency && w.After.HasLatency {
			before, _ := w.Before.Latency.Quantile(0.95)
			after, _ := w.After.Latency.Quantile(0.95)
			c := Check{Name: "p95_latency_ms " + w.SLO, Op: "<=", Threshold: round6(before * (1 + o.MaxLatencyIncrease)), Unit: "ms"}
			nb, na := float64(w.Before.latencyCount()), float64(w.After.latencyCount())
			if na > 0 {
				c.Value = Measured(round6(after))
			}
			switch {
			case na < o.MinEvents || nb < o.MinEvents:
				c.Verdict, c.Detail = Inconclusive, fmt.Sprintf("%.0f latency observations before and %.0f after, need %.0f", nb, na, o.MinEvents)
			default:
				r := MannWhitneyBinned(slo.LatencyBins(w.Before.Latency, w.After.Latency))
				if r.P < o.Alpha && after > before*(1+o.MaxLatencyIncrease) {
					c.Verdict, c.Detail = Fail, fmt.Sprintf("p95 rose from %.4gms to %.4gms (Mann-Whitney z = %.2f, p = %.2g)", before, after, r.Z, r.P)
				} else {
					c.Verdict, c.Detail = Pass, fmt.Sprintf("p95 %.4gms before, %.4gms after (p = %.2g)", before, after, r.P)
				}
			}
			out = append(out, c)
		}
		// Burn rate after the deploy.
		burn := 0.0
		if w.After.Total > 0 && w.Objective < 1 {
			burn = w.After.Bad() / w.After.Total / (1 - w.Objective)
		}
		c = Check{Name: "burn_rate " + w.SLO, Op: "<=", Threshold: o.MaxBurnRate}
		if w.After.Total > 0 {
			c.Value = Measured(round6(burn))
		}
		switch {
		case lowAfter:
			c.Verdict, c.Detail = Inconclusive, fmt.Sprintf("%.0f events after the deploy, need %.0f", w.After.Total, o.MinEvents)
		case burn > o.MaxBurnRate:
			c.Verdict, c.Detail = Fail, fmt.Sprintf("the error budget burns %.3gx after the deploy", burn)
		default:
			c.Verdict = Pass
		}
		out = append(out, c)
	}
	return out
}

func round6(v float64) float64 {
	s := strconv.FormatFloat(v, 'f', 6, 64)
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// WindowReader reads an SLO's data in [from, to).
type WindowReader interface {
	Window(ctx context.Context, def *slo.Definition, from, to time.Time) (WindowData, error)
}

// VerifiableKinds are the kinds of change verification accepts: every
// change that can move an SLI (a backup changes nothing).
var VerifiableKinds = []string{change.KindDeploy, change.KindRollback, change.KindConfig, change.KindFlag, change.KindMigration, change.KindChaos}

// Verifiable reports whether changes of kind can be verified.
func Verifiable(kind string) bool { return slices.Contains(VerifiableKinds, kind) }

// AlertRaiser raises the "SLO violation after deployment" alert for a
// deploy that verification marked failed (internal/app connects it to the
// incident capability).
type AlertRaiser interface {
	RaiseDeployRegression(ctx context.Context, deploy change.Event, v Verification) error
}

// Verification is the outcome of verifying one deploy.
type Verification struct {
	Deploy  change.Event `json:"deploy"`
	Verdict string       `json:"verdict"`
	Checks  []Check      `json:"checks"`
	// From and To bound the window after the deploy that was read;
	// BaselineFrom starts the baseline (which ends at the deploy).
	BaselineFrom time.Time `json:"baseline_from"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	// Window and Baseline are the lengths asked for ("15m", "1h"); the
	// window read so far is From to To.
	Window   string `json:"window"`
	Baseline string `json:"baseline"`
	// Complete says whether the whole window has passed; ReadyAt is when it
	// does. An incomplete pass or inconclusive verdict may still change.
	Complete bool      `json:"complete"`
	ReadyAt  time.Time `json:"ready_at"`
	// MarkedFailed is set when this verification marked the deploy failed.
	MarkedFailed bool `json:"marked_failed"`
	// Reason is the one-line summary recorded as the deploy's failure reason.
	Reason string `json:"reason,omitempty"`
	// ResultID is the gate result recorded (complete or failed runs only).
	ResultID int64 `json:"result_id,omitempty"`
}

// Verifier runs post-deploy verification against stored changes and SLOs.
type Verifier struct {
	Changes *change.Store
	Results *Store
	// SLOs returns the SLO definitions of the live config.
	SLOs   func() []*slo.Definition
	Reader WindowReader
	// Alerts raises the regression alert (nil: none).
	Alerts   AlertRaiser
	Clock    clock.Clock
	Log      *slog.Logger
	Defaults func() VerifyOptions
}

// JobKind is the engine job kind of automatic verification.
const JobKind = "gate.verify"

func (v *Verifier) options(o VerifyOptions) VerifyOptions {
	d := DefaultVerifyOptions
	if v.Defaults != nil {
		d = v.Defaults().WithDefaults()
	}
	return o.or(d)
}

// Verify verifies deploy deployID of service (0: the service's latest
// deploy). The window after the deploy ends at the deploy's finish plus
// o.Window or now, whichever is earlier. A failing verdict marks the deploy
// failed (change.Store.SetStatus, so change failure rate counts it), records
// why, and raises the alert; complete or failing runs are recorded as gate
// results. Errors: not_found for an unknown deploy, invalid for a deploy of
// another service or kind, conflict for a deploy still in progress.
func (v *Verifier) Verify(ctx context.Context, service string, deployID int64, o VerifyOptions, actor string) (Verification, error) {
	o = v.options(o)
	now := v.Clock.Now()
	var dep change.Event
	var err error
	if deployID > 0 {
		dep, err = v.Changes.Get(ctx, deployID)
		if err != nil {
			return Verification{}, err
		}
		if service != "" && dep.Service != service {
			return Verification{}, tandem.FieldErrorf("deploy", "change %d is a change of %s, not %s", deployID, dep.Service, service)
		}
	} else {
		evs, err := v.Changes.List(ctx, change.Filter{Services: []string{service}, Kinds: []string{change.KindDeploy}, Limit: 1})
		if err != nil {
			return Verification{}, err
		}
		if len(evs) == 0 {
			return Verification{}, tandem.Errorf(tandem.ENotFound, "no deploy of %s recorded", service)
		}
		dep = evs[0]
	}
	if !Verifiable(dep.Kind) {
		return Verification{}, tandem.FieldErrorf("deploy", "change %d is a %s, which changes nothing to verify; verifiable kinds: %s", dep.ID, dep.Kind, strings.Join(VerifiableKinds, ", "))
	}
	if dep.Status == change.StatusInProgress {
		return Verification{}, tandem.Errorf(tandem.EConflict, "%s %d is still in progress; verify it once it finished", dep.Kind, dep.ID)
	}
	at := dep.At()
	res := Verification{Deploy: dep, BaselineFrom: at.Add(-o.Baseline), From: at, ReadyAt: at.Add(o.Window),
		Window: slo.FormatDuration(o.Window), Baseline: slo.FormatDuration(o.Baseline)}
	res.To = res.ReadyAt
	if now.Before(res.To) {
		res.To = now
	}
	res.Complete = !now.Before(res.ReadyAt)
	var windows []SLIWindows
	var unread []Check
	var defs []*slo.Definition
	if v.SLOs != nil {
		for _, def := range v.SLOs() {
			// The change's own environment: a staging config change is
			// verified against staging's SLOs.
			if def.Service == dep.Service && def.Env() == dep.Environment && def.Indicator.Source != slo.SourceChanges {
				defs = append(defs, def)
			}
		}
	}
	// An empty selection is not "inconclusive for now": no amount of
	// waiting gives the deploy something to be verified against.
	if len(defs) == 0 {
		return Verification{}, tandem.Errorf(tandem.EUnprocessable, "service %s has no SLO measured from requests in %s to verify %s %d against", dep.Service, dep.Environment, dep.Kind, dep.ID)
	}
	for _, def := range defs {
		w := SLIWindows{SLO: def.Name, Objective: def.Objective}
		w.Before, err = v.Reader.Window(ctx, def, res.BaselineFrom, at)
		if err == nil && res.To.After(at) {
			w.After, err = v.Reader.Window(ctx, def, at, res.To)
		}
		if err != nil {
			unread = append(unread, Check{Name: "sli " + def.Name, Op: ">=", Threshold: 1, Verdict: Inconclusive,
				Detail: "cannot read the SLI: " + err.Error()})
			continue
		}
		windows = append(windows, w)
	}
	res.Checks = append(CompareWindows(windows, o), unread...)
	for i := range res.Checks {
		c := &res.Checks[i]
		c.Window, c.From, c.To = slo.FormatDuration(res.To.Sub(res.From)), res.From, res.To
	}
	res.Verdict = Combine(res.Checks)
	if res.Verdict == Fail {
		var reasons []string
		for _, c := range res.Checks {
			if c.Verdict == Fail {
				reasons = append(reasons, c.Name+": "+c.Detail)
			}
		}
		after := "deployment"
		if dep.Kind != change.KindDeploy {
			after = dep.Kind + " change"
		}
		res.Reason = "SLO violation after " + after + ": " + strings.Join(reasons, "; ")
		if len(res.Reason) > 500 {
			res.Reason = res.Reason[:497] + "…"
		}
		if !dep.Failed() {
			upd, err := v.Changes.SetStatus(ctx, dep.ID, change.StatusFailed, res.Reason, now)
			if err != nil {
				return Verification{}, fmt.Errorf("mark deploy %d failed: %w", dep.ID, err)
			}
			res.Deploy, res.MarkedFailed = upd, true
		}
		if v.Alerts != nil {
			if err := v.Alerts.RaiseDeployRegression(ctx, res.Deploy, res); err != nil {
				return Verification{}, fmt.Errorf("raise the regression alert: %w", err)
			}
		}
	}
	if res.Complete || res.Verdict == Fail {
		msg := fmt.Sprintf("%s %d of %s: %s", dep.Kind, dep.ID, dep.Service, res.Verdict)
		if res.Reason != "" {
			msg = res.Reason
		}
		r, err := v.Results.Record(ctx, Result{Kind: KindVerify, Service: dep.Service, Target: dep.Kind + " " + strconv.FormatInt(dep.ID, 10),
			Verdict: res.Verdict, Message: msg, Checks: res.Checks, Actor: actor, ChangeID: dep.ID}, now)
		if err != nil {
			return Verification{}, err
		}
		res.ResultID = r.ID
	}
	return res, nil
}

// jobPayload is the payload of an automatic verification job.
type jobPayload struct {
	DeployID int64 `json:"deploy_id"`
}

// AutoVerifyMaxAge bounds how long after its finish a deploy is still
// verified automatically: a deploy recorded later than that (history
// imported from Git or a CI system) is only verified when asked.
const AutoVerifyMaxAge = 24 * time.Hour

// EnqueueTx enqueues automatic verification of e in tx, the transaction
// that records e finished (change.Store.OnFinished): for a deploy recorded
// with verify, one job (key gate.verify:<id>) due when its window has
// passed. Other events, and deploys that finished more than
// AutoVerifyMaxAge ago, enqueue nothing.
func (v *Verifier) EnqueueTx(ctx context.Context, tx *db.Tx, e change.Event) error {
	if e.Kind != change.KindDeploy || !e.Verify || e.Status == change.StatusInProgress {
		return nil
	}
	if v.Clock.Now().Sub(e.At()) > AutoVerifyMaxAge {
		return nil
	}
	o := v.options(VerifyOptions{})
	_, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: JobKind, Key: JobKind + ":" + strconv.FormatInt(e.ID, 10),
		Payload: jobPayload{e.ID}, RunAt: e.At().Add(o.Window + time.Minute), MaxAttempts: 5})
	return err
}

// HandleJob is the engine handler of automatic verification.
func (v *Verifier) HandleJob(ctx context.Context, j engine.Job) error {
	var p jobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.DeployID <= 0 {
		return engine.Permanent(fmt.Errorf("bad verification payload %s", j.Payload))
	}
	res, err := v.Verify(ctx, "", p.DeployID, VerifyOptions{}, "tandem (automatic verification)")
	if err != nil {
		if code := tandem.ErrorCode(err); code == tandem.ENotFound || code == tandem.EInvalid || code == tandem.EUnprocessable {
			return engine.Permanent(err)
		}
		return err
	}
	if !res.Complete && res.Verdict != Fail {
		return fmt.Errorf("deploy %d: verification window ends at %s", p.DeployID, res.ReadyAt.Format(time.RFC3339))
	}
	if v.Log != nil {
		v.Log.Info("deploy verified", "deploy", p.DeployID, "service", res.Deploy.Service, "verdict", res.Verdict)
	}
	return nil
}

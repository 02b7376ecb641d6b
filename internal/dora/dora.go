// Package dora computes the DORA software delivery metrics — deployment
// frequency, lead time for changes, change failure rate, failed deployment
// recovery time and rework rate — with their performance tiers, from change
// events, commits and incidents.
//
// The computation is pure: Compute (or Analyze and then Report, for many
// reports over the same data) takes Inputs and a period and returns a
// Report; it reads no clock and does no I/O. Inputs are compact (times as
// Unix milliseconds, commit times in one slice grouped per deploy) so that a
// report over a million deploys and ten million commits fits in well under
// a gigabyte. Build turns change events and commits into Inputs, and Loader
// reads them from the change store and incidents from an IncidentLister.
//
// docs/dora.md defines every metric and edge case; the tier table is in
// tier.go.
package dora

import (
	"math"
	"slices"
	"time"
)

// Status of a deploy in Inputs.
type Status uint8

// Deploy statuses, as in change events.
const (
	Success Status = iota
	Failed
	RolledBack
	InProgress
)

// Service is a service of the report, with its owning team.
type Service struct {
	Name string
	Team string
}

// Deploy is one production deploy or rollback, compactly.
type Deploy struct {
	// ID is the change event's id (incidents may link to it).
	ID int64
	// At is the deploy's moment in Unix milliseconds: its finish, or its
	// start while in progress.
	At int64
	// CommitsFrom and CommitsTo delimit the deploy's commits in
	// Inputs.CommitTimes: CommitTimes[CommitsFrom:CommitsTo] are the lead
	// time starts of the commits this deploy shipped first.
	CommitsFrom, CommitsTo int32
	// Service indexes Inputs.Services.
	Service int32
	Status  Status
	// Rollback marks a rollback (a change of kind rollback); it is not a
	// deploy for counting, but it marks the deploy before it as failed and
	// restores service when it succeeds.
	Rollback bool
	// Hotfix marks a deploy labelled hotfix (rework).
	Hotfix bool
	// Config marks a config change or a feature flag flip: a change to
	// production that counts in change failure rate only (docs/dora.md),
	// failed by its own status (a failed verification sets it) or by an
	// incident that names it.
	Config bool
}

// Incident is an incident as DORA needs it. DeployID, when not zero, links
// it to the deploy that caused it.
type Incident struct {
	Service    string
	StartedAt  time.Time
	ResolvedAt time.Time // zero while unresolved
	DeployID   int64
}

// Inputs is everything a report is computed from. Deploys may come in any
// order; those of one environment only (the loader selects it). Deploys
// before the report's period matter (a failure just before it, recovered
// inside), so loaders include a lookback.
type Inputs struct {
	Services    []Service
	Deploys     []Deploy
	CommitTimes []int64 // Unix ms, grouped per deploy (see Deploy.CommitsFrom)
	Incidents   []Incident
}

// Options tune the metrics. Zero values take the defaults.
type Options struct {
	// IncidentWindow: an incident opened on a service within this time after
	// a deploy of it counts that deploy as failed (default 24h).
	IncidentWindow time.Duration
	// ReworkWindow: a deploy within this time after a failed deploy of the
	// same service is rework (default 24h).
	ReworkWindow time.Duration
}

// DefaultWindow is the default of both windows in Options.
const DefaultWindow = 24 * time.Hour

func (o Options) withDefaults() Options {
	if o.IncidentWindow <= 0 {
		o.IncidentWindow = DefaultWindow
	}
	if o.ReworkWindow <= 0 {
		o.ReworkWindow = DefaultWindow
	}
	return o
}

// Report is the DORA metrics of one scope (the org, a team or a service)
// over [From, To). A metric that cannot be computed is null in JSON and its
// tier is "no_data". The counts say what each metric was computed from.
type Report struct {
	Service     string    `json:"service,omitempty"`
	Team        string    `json:"team,omitempty"`
	Environment string    `json:"environment,omitempty"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Days        float64   `json:"days"`

	// Deployment frequency: successful deploys per day and week.
	DeploymentFrequencyPerDay  float64 `json:"deployment_frequency_per_day"`
	DeploymentFrequencyPerWeek float64 `json:"deployment_frequency_per_week"`
	DeploymentFrequencyTier    Tier    `json:"deployment_frequency_tier"`
	// Deploys counts finished deploys (any status); SuccessfulDeploys those
	// that succeeded.
	Deploys           int `json:"deploys"`
	SuccessfulDeploys int `json:"successful_deploys"`

	// Lead time for changes, per commit, in seconds.
	LeadTimeMedianSeconds *float64 `json:"lead_time_median_seconds"`
	LeadTimeP90Seconds    *float64 `json:"lead_time_p90_seconds"`
	LeadTimeTier          Tier     `json:"lead_time_tier"`
	LeadTimeCommits       int      `json:"lead_time_commits"`

	// Change failure rate: (FailedDeploys + FailedConfigChanges) /
	// (Deploys + ConfigChanges); config changes and flag flips are changes
	// to production (docs/dora.md).
	ChangeFailureRate     *float64 `json:"change_failure_rate"`
	ChangeFailureRateTier Tier     `json:"change_failure_rate_tier"`
	FailedDeploys         int      `json:"failed_deploys"`
	// ConfigChanges counts finished config changes and flag flips in the
	// period; FailedConfigChanges those that failed (status failed or
	// rolled_back, a failed verification included, or named by an
	// incident).
	ConfigChanges       int `json:"config_changes"`
	FailedConfigChanges int `json:"failed_config_changes"`

	// Failed deployment recovery time, in seconds, over Recoveries; failures
	// not yet recovered are OpenFailures.
	RecoveryTimeMedianSeconds *float64 `json:"recovery_time_median_seconds"`
	RecoveryTimeP90Seconds    *float64 `json:"recovery_time_p90_seconds"`
	RecoveryTimeTier          Tier     `json:"recovery_time_tier"`
	Recoveries                int      `json:"recoveries"`
	OpenFailures              int      `json:"open_failures"`

	// Rework rate: ReworkDeploys / Deploys. DORA 2024 gives it no tiers.
	ReworkRate    *float64 `json:"rework_rate"`
	ReworkDeploys int      `json:"rework_deploys"`

	// Periods breaks the report down (by day, week or month) when asked.
	Periods []Report `json:"periods,omitempty"`
}

// Compute returns the org-wide report over [from, to): every deploy and
// incident in in.
func Compute(in Inputs, from, to time.Time, opts Options) Report {
	return Analyze(in, opts).Report(from, to, nil)
}

// Analysis is Inputs prepared for many reports: deploys ordered per
// service, each deploy's failure decided once.
type Analysis struct {
	in   Inputs
	opts Options
	// deploys is a copy of in.Deploys grouped by service, in time order
	// within one, so reports read memory in sequence; order[k] is the index
	// in in.Deploys of deploys[k].
	deploys []Deploy
	order   []int32
	// start[s]..start[s+1] is service s's range in deploys; commits[s] is
	// the number of commits of service s's successful deploys.
	start   []int32
	commits []int
	// failed marks deploys counted as change failures; statusFailed those
	// failed by their own status or a rollback after them.
	failed, statusFailed []bool
	// incidents per service index, with the deploy each one is linked to
	// (-1 when none).
	incidents     [][]incidentRef
	unknownIncSvc []incidentRef // incidents of services not in Inputs.Services
}

type incidentRef struct {
	start, resolved int64
	deploy          int32
}

// Analyze prepares in for reports. It does not copy in; do not change it
// while the Analysis is in use.
func Analyze(in Inputs, opts Options) *Analysis {
	opts = opts.withDefaults()
	a := &Analysis{in: in, opts: opts}
	nsvc := len(in.Services)
	// Counting sort by service, then by time within each service (loaders
	// give deploys in time order, so the per-service sort is usually a check).
	counts := make([]int32, nsvc+1)
	for i := range in.Deploys {
		counts[in.Deploys[i].Service+1]++
	}
	for s := 1; s <= nsvc; s++ {
		counts[s] += counts[s-1]
	}
	a.start = slices.Clone(counts)
	a.order = make([]int32, len(in.Deploys))
	for i := range in.Deploys {
		s := in.Deploys[i].Service
		a.order[counts[s]] = int32(i)
		counts[s]++
	}
	less := func(x, y int32) int {
		dx, dy := &in.Deploys[x], &in.Deploys[y]
		if dx.At != dy.At {
			if dx.At < dy.At {
				return -1
			}
			return 1
		}
		if dx.ID != dy.ID {
			if dx.ID < dy.ID {
				return -1
			}
			return 1
		}
		return int(x - y)
	}
	for s := 0; s < nsvc; s++ {
		seq := a.order[a.start[s]:a.start[s+1]]
		if !slices.IsSortedFunc(seq, less) {
			slices.SortFunc(seq, less)
		}
	}
	a.deploys = make([]Deploy, len(in.Deploys))
	a.commits = make([]int, nsvc)
	for k, i := range a.order {
		d := in.Deploys[i]
		a.deploys[k] = d
		if d.Status == Success && !d.Rollback {
			a.commits[d.Service] += int(d.CommitsTo - d.CommitsFrom)
		}
	}
	// From here on, indexes are positions in a.deploys.

	// Failure by status, or by a rollback as the next finished change.
	a.failed = make([]bool, len(in.Deploys))
	a.statusFailed = make([]bool, len(in.Deploys))
	for s := 0; s < nsvc; s++ {
		lo, hi := a.start[s], a.start[s+1]
		for i := lo; i < hi; i++ {
			d := &a.deploys[i]
			if d.Rollback || d.Status == InProgress {
				continue
			}
			f := d.Status == Failed || d.Status == RolledBack
			if !f && !d.Config {
				for j := i + 1; j < hi; j++ {
					n := &a.deploys[j]
					if n.Status == InProgress || n.Config {
						continue
					}
					f = n.Rollback
					break
				}
			}
			a.failed[i], a.statusFailed[i] = f, f
		}
	}

	// Incidents: linked to a deploy explicitly, or to the latest deploy of
	// its service at most IncidentWindow before it started.
	svcIndex := make(map[string]int32, nsvc)
	for i, s := range in.Services {
		svcIndex[s.Name] = int32(i)
	}
	byID := map[int64]int32{}
	for _, inc := range in.Incidents {
		if inc.DeployID != 0 {
			byID[inc.DeployID] = -1
		}
	}
	if len(byID) > 0 {
		for i := range a.deploys {
			if _, ok := byID[a.deploys[i].ID]; ok {
				byID[a.deploys[i].ID] = int32(i)
			}
		}
	}
	a.incidents = make([][]incidentRef, nsvc)
	window := opts.IncidentWindow.Milliseconds()
	for _, inc := range in.Incidents {
		ref := incidentRef{start: inc.StartedAt.UnixMilli(), resolved: ms(inc.ResolvedAt), deploy: -1}
		s, known := svcIndex[inc.Service]
		if inc.DeployID != 0 {
			if i := byID[inc.DeployID]; i >= 0 && !a.deploys[i].Rollback {
				ref.deploy = i
			}
		} else if known {
			lo := int(a.start[s])
			seq := a.deploys[lo:a.start[s+1]]
			// The last deploy at or before the incident's start.
			k, _ := slices.BinarySearchFunc(seq, ref.start, func(d Deploy, t int64) int {
				if d.At <= t {
					return -1
				}
				return 1
			})
			for k--; k >= 0; k-- {
				d := &seq[k]
				if d.Rollback || d.Config || d.Status == InProgress {
					continue
				}
				if ref.start-d.At <= window {
					ref.deploy = int32(lo + k)
				}
				break
			}
		}
		if ref.deploy >= 0 {
			a.failed[ref.deploy] = true
		}
		if known {
			a.incidents[s] = append(a.incidents[s], ref)
		} else {
			a.unknownIncSvc = append(a.unknownIncSvc, ref)
		}
	}
	return a
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Report computes the metrics over [from, to) for the services with the
// given indexes into Inputs.Services (nil: all of them, and incidents of
// services not in Inputs too).
func (a *Analysis) Report(from, to time.Time, services []int32) Report {
	in := a.in
	f, t := from.UnixMilli(), to.UnixMilli()
	r := Report{From: from.UTC(), To: to.UTC(), Days: to.Sub(from).Hours() / 24}
	all := services == nil
	if all {
		services = make([]int32, len(in.Services))
		for i := range services {
			services[i] = int32(i)
		}
	}
	var recoveries []int64
	n := 0
	for _, s := range services {
		n += a.commits[s]
	}
	leads := make([]int64, 0, n)
	if all {
		// In the input's order the commit times are read in sequence.
		for i := range in.Deploys {
			d := &in.Deploys[i]
			if d.Status == Success && !d.Rollback && d.At >= f && d.At < t {
				for _, c := range in.CommitTimes[d.CommitsFrom:d.CommitsTo] {
					leads = append(leads, max(d.At-c, 0))
				}
			}
		}
	}
	rework := a.opts.ReworkWindow.Milliseconds()
	for _, s := range services {
		lo, hi := a.start[s], a.start[s+1]
		prevDeploy := int32(-1) // the last finished deploy (not rollback) before the current one
		for i := lo; i < hi; i++ {
			d := &a.deploys[i]
			if d.Status == InProgress || d.Rollback {
				continue
			}
			if d.Config {
				if d.At >= f && d.At < t {
					r.ConfigChanges++
					if a.failed[i] {
						r.FailedConfigChanges++
					}
				}
				continue
			}
			if d.At >= f && d.At < t {
				r.Deploys++
				if d.Status == Success {
					r.SuccessfulDeploys++
					if !all {
						for _, c := range in.CommitTimes[d.CommitsFrom:d.CommitsTo] {
							leads = append(leads, max(d.At-c, 0))
						}
					}
				}
				if a.failed[i] {
					r.FailedDeploys++
				}
				if d.Hotfix || (prevDeploy >= 0 && a.failed[prevDeploy] && d.At-a.deploys[prevDeploy].At <= rework) {
					r.ReworkDeploys++
				}
				if a.statusFailed[i] {
					// Recovered by the next successful deploy or rollback.
					rec := int64(-1)
					for j := i + 1; j < hi; j++ {
						if n := &a.deploys[j]; n.Status == Success {
							rec = n.At - d.At
							break
						}
					}
					if rec >= 0 {
						recoveries = append(recoveries, rec)
					} else {
						r.OpenFailures++
					}
				}
			}
			prevDeploy = i
		}
		for _, inc := range a.incidents[s] {
			a.addIncident(inc, f, t, &recoveries, &r)
		}
	}
	if all {
		for _, inc := range a.unknownIncSvc {
			a.addIncident(inc, f, t, &recoveries, &r)
		}
	}

	if r.Days > 0 {
		r.DeploymentFrequencyPerDay = float64(r.SuccessfulDeploys) / r.Days
		r.DeploymentFrequencyPerWeek = r.DeploymentFrequencyPerDay * 7
		r.DeploymentFrequencyTier = FrequencyTier(r.DeploymentFrequencyPerDay)
	} else {
		r.DeploymentFrequencyTier = NoData
	}
	r.LeadTimeCommits = len(leads)
	r.LeadTimeTier = NoData
	if len(leads) > 0 {
		q := quantiles(leads, 0.5, 0.9)
		med, p90 := q[0], q[1]
		r.LeadTimeMedianSeconds, r.LeadTimeP90Seconds = ptr(med/1000), ptr(p90/1000)
		r.LeadTimeTier = LeadTimeTier(time.Duration(med * float64(time.Millisecond)))
	}
	r.ChangeFailureRateTier = NoData
	if changes := r.Deploys + r.ConfigChanges; changes > 0 {
		cfr := float64(r.FailedDeploys+r.FailedConfigChanges) / float64(changes)
		r.ChangeFailureRate = &cfr
		r.ChangeFailureRateTier = ChangeFailureTier(cfr)
	}
	if r.Deploys > 0 {
		rw := float64(r.ReworkDeploys) / float64(r.Deploys)
		r.ReworkRate = &rw
	}
	r.Recoveries = len(recoveries)
	r.RecoveryTimeTier = NoData
	if len(recoveries) > 0 {
		q := quantiles(recoveries, 0.5, 0.9)
		med, p90 := q[0], q[1]
		r.RecoveryTimeMedianSeconds, r.RecoveryTimeP90Seconds = ptr(med/1000), ptr(p90/1000)
		r.RecoveryTimeTier = RecoveryTier(time.Duration(med * float64(time.Millisecond)))
	}
	return r
}

// addIncident counts an incident that started in [f, t) as a recovery
// sample (or an open failure), unless the deploy it is linked to failed by
// its own status: that failure is measured from the deploy already.
func (a *Analysis) addIncident(inc incidentRef, f, t int64, recoveries *[]int64, r *Report) {
	if inc.start < f || inc.start >= t {
		return
	}
	if inc.deploy >= 0 && a.statusFailed[inc.deploy] {
		return
	}
	if inc.resolved == 0 {
		r.OpenFailures++
		return
	}
	*recoveries = append(*recoveries, max(inc.resolved-inc.start, 0))
}

func ptr(v float64) *float64 { return &v }

// ByService returns one report per service, in the order of Inputs.Services.
func (a *Analysis) ByService(from, to time.Time) []Report {
	out := make([]Report, len(a.in.Services))
	for i, s := range a.in.Services {
		out[i] = a.Report(from, to, []int32{int32(i)})
		out[i].Service, out[i].Team = s.Name, s.Team
	}
	return out
}

// ByTeam returns one report per team that owns a service of Inputs, sorted
// by team name.
func (a *Analysis) ByTeam(from, to time.Time) []Report {
	teams := map[string][]int32{}
	for i, s := range a.in.Services {
		teams[s.Team] = append(teams[s.Team], int32(i))
	}
	names := make([]string, 0, len(teams))
	for n := range teams {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Report, len(names))
	for i, n := range names {
		out[i] = a.Report(from, to, teams[n])
		out[i].Team = n
	}
	return out
}

// Periods splits [from, to) at calendar boundaries in UTC — "day" at
// midnight, "week" at Monday midnight (ISO weeks), "month" at the first —
// and returns the report of each piece for the services (nil: all). The
// first and last piece may be partial.
func (a *Analysis) Periods(from, to time.Time, by string, services []int32) []Report {
	var out []Report
	cur := from.UTC()
	for cur.Before(to) {
		next := nextBoundary(cur, by)
		if next.After(to) {
			next = to
		}
		out = append(out, a.Report(cur, next, services))
		cur = next
	}
	return out
}

func nextBoundary(t time.Time, by string) time.Time {
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch by {
	case "day":
		return midnight.AddDate(0, 0, 1)
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	}
	// week: the next Monday.
	days := (8 - int(midnight.Weekday())) % 7
	if days == 0 {
		days = 7
	}
	return midnight.AddDate(0, 0, days)
}

// quantile returns the p-quantile of xs by linear interpolation between
// closest ranks (R's type 7, NumPy's default): with h = (n-1)p, the value
// is x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1]-x[⌊h⌋]) over xs sorted. It reorders xs.
func quantile(xs []int64, p float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	v := selectK(xs, lo)
	if lo+1 >= n || h == float64(lo) {
		return float64(v)
	}
	// After selection everything above lo is >= x[lo]; the next order
	// statistic is the smallest of them.
	next := xs[lo+1]
	for _, x := range xs[lo+2:] {
		if x < next {
			next = x
		}
	}
	return float64(v) + (h-float64(lo))*float64(next-v)
}

// selectK reorders xs so that xs[k] is the k-th smallest (0-based), with
// nothing larger before it and nothing smaller after it, and returns it.
// Quickselect with a median-of-three pivot; it falls back to sorting when
// the pivots keep going badly.
func selectK(xs []int64, k int) int64 {
	lo, hi := 0, len(xs)-1
	budget := 2 * (bitsLen(len(xs)) + 1)
	for hi > lo {
		if budget == 0 || hi-lo < 16 {
			slices.Sort(xs[lo : hi+1])
			return xs[k]
		}
		budget--
		mid := lo + (hi-lo)/2
		// Median of three into xs[mid].
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		// Three-way partition: < pivot | == pivot | > pivot.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case xs[i] < pivot:
				xs[lt], xs[i] = xs[i], xs[lt]
				lt++
				i++
			case xs[i] > pivot:
				xs[gt], xs[i] = xs[i], xs[gt]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return pivot
		}
	}
	return xs[k]
}

func bitsLen(n int) int {
	b := 0
	for n > 0 {
		b++
		n >>= 1
	}
	return b
}

// quantiles returns quantile(xs, p) for each p, in linear time however
// large xs is: one pass finds the range, one counts values into 2^16
// buckets, and only the few values in the buckets holding the wanted ranks
// are selected exactly. It reorders nothing but allocates the buckets.
func quantiles(xs []int64, ps ...float64) []float64 {
	out := make([]float64, len(ps))
	n := len(xs)
	if n < 1<<12 {
		c := slices.Clone(xs)
		slices.Sort(c)
		for i, p := range ps {
			h := float64(n-1) * p
			lo := int(math.Floor(h))
			v := float64(c[lo])
			if lo+1 < n && h != float64(lo) {
				v += (h - float64(lo)) * float64(c[lo+1]-c[lo])
			}
			out[i] = v
		}
		return out
	}
	mn, mx := xs[0], xs[0]
	for _, x := range xs {
		mn, mx = min(mn, x), max(mx, x)
	}
	shift := uint(0)
	for (uint64(mx-mn) >> shift) >= 1<<16 {
		shift++
	}
	counts := make([]int32, (uint64(mx-mn)>>shift)+1)
	for _, x := range xs {
		counts[uint64(x-mn)>>shift]++
	}
	// rank returns the k-th smallest value (0-based).
	rank := func(k int) int64 {
		b, seen := 0, 0
		for ; b < len(counts); b++ {
			if seen+int(counts[b]) > k {
				break
			}
			seen += int(counts[b])
		}
		bucket := make([]int64, 0, counts[b])
		for _, x := range xs {
			if int(uint64(x-mn)>>shift) == b {
				bucket = append(bucket, x)
			}
		}
		return selectK(bucket, k-seen)
	}
	for i, p := range ps {
		h := float64(n-1) * p
		lo := int(math.Floor(h))
		v := rank(lo)
		if lo+1 < n && h != float64(lo) {
			out[i] = float64(v) + (h-float64(lo))*float64(rank(lo+1)-v)
		} else {
			out[i] = float64(v)
		}
	}
	return out
}

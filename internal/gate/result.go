// Package gate holds tandem's CI/CD gates: the SLO gate (error budget, burn
// rate, p95 latency and release freeze checks against thresholds), the
// migration gate (a migration tool run as a child process, measured against
// a time limit), post-deploy verification (the SLIs after a deploy compared
// with a baseline before it, with a two-proportion test for the error ratio,
// a Mann-Whitney rank test for latency and the burn rate), and the audit
// log of every gate result.
//
// The checks and the statistics are pure functions of their inputs; Store
// keeps results; Verifier reads changes and SLI windows, marks regressed
// deploys failed and raises the alert.
package gate

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

// Gate kinds.
const (
	KindSLO       = "slo"
	KindMigration = "migration"
	KindVerify    = "verify"
)

// Kinds lists every gate kind.
var Kinds = []string{KindSLO, KindMigration, KindVerify}

// Verdicts of a gate and of one check.
const (
	Pass = "pass"
	Fail = "fail"
	// Inconclusive: the gate could not decide (no data, too little
	// traffic, a source unreachable). The SLO gate exits 2.
	Inconclusive = "inconclusive"
)

// Verdicts lists every verdict.
var Verdicts = []string{Pass, Fail, Inconclusive}

// Check is one comparison a gate made.
type Check struct {
	// Name says what was checked: "budget_remaining checkout-availability".
	Name string `json:"name"`
	// Value is what was measured, held against Threshold with Op ("<=",
	// ">=", "<", ">", "=="). It is null when nothing could be measured (no
	// data, a source that cannot be read): the check is then inconclusive
	// and Detail says why. No data is never a number.
	Value     *float64 `json:"value"`
	Op        string   `json:"op"`
	Threshold float64  `json:"threshold"`
	Unit      string   `json:"unit,omitempty"`
	Verdict   string   `json:"verdict"`
	// Detail explains a fail or inconclusive check.
	Detail string `json:"detail,omitempty"`
	// Window is the span the value was measured over, as a duration ("15m",
	// "28d"), with its bounds From and To; empty for checks that are not
	// measured over time (an exit code, a release freeze).
	Window string    `json:"window,omitempty"`
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
}

// Measured returns a pointer to v, for Check.Value.
func Measured(v float64) *float64 { return &v }

// ValueText is the check's value as the gate prints it ("42%", "975ms"),
// or "no data" when nothing was measured.
func (c Check) ValueText() string {
	if c.Value == nil {
		return "no data"
	}
	return formatValue(*c.Value, c.Unit)
}

// ThresholdText is the check's threshold as the gate prints it.
func (c Check) ThresholdText() string { return formatValue(c.Threshold, c.Unit) }

// Holds reports whether value Op threshold is true.
func Holds(value float64, op string, threshold float64) bool {
	switch op {
	case "<=":
		return value <= threshold
	case "<":
		return value < threshold
	case ">=":
		return value >= threshold
	case ">":
		return value > threshold
	case "==":
		return value == threshold
	}
	return false
}

// Combine is the verdict of several checks: fail if any fails, else
// inconclusive if any is, else pass. No checks at all is inconclusive.
func Combine(checks []Check) string {
	if len(checks) == 0 {
		return Inconclusive
	}
	v := Pass
	for _, c := range checks {
		switch c.Verdict {
		case Fail:
			return Fail
		case Inconclusive:
			v = Inconclusive
		}
	}
	return v
}

// Result is one gate run, as the audit log keeps it.
type Result struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Service string `json:"service,omitempty"`
	// Target names what was gated: SLO names, the migration command, the
	// deploy id.
	Target  string  `json:"target,omitempty"`
	Verdict string  `json:"verdict"`
	Message string  `json:"message,omitempty"`
	Checks  []Check `json:"checks"`
	// Actor is who ran the gate (the token's name when recorded through the
	// API); Source where (a CI run URL).
	Actor      string    `json:"actor,omitempty"`
	Source     string    `json:"source,omitempty"`
	ChangeID   int64     `json:"change_id,omitempty"`
	DurationMs int64     `json:"duration_ms,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// Commit is the SHA of the commit the gate ran for (a CI run's
	// GITHUB_SHA); a GitHub check run is posted on it. Without it, a result
	// of a change (ChangeID) is reported on the change's commit.
	Commit string `json:"commit,omitempty"`
	// FailOpen says the gate ran with --fail-open: an inconclusive verdict
	// let the pipeline pass. Without it an inconclusive gate failed closed.
	FailOpen bool `json:"fail_open,omitempty"`
}

var commitRe = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

// Normalize checks a result before it is stored; errors are *tandem.Error
// naming the field.
func (r *Result) Normalize() error {
	if !slices.Contains(Kinds, r.Kind) {
		return tandem.FieldErrorf("kind", "want one of %s, got %q", strings.Join(Kinds, ", "), r.Kind)
	}
	if !slices.Contains(Verdicts, r.Verdict) {
		return tandem.FieldErrorf("verdict", "want one of %s, got %q", strings.Join(Verdicts, ", "), r.Verdict)
	}
	for name, v := range map[string]string{"service": r.Service, "actor": r.Actor, "source": r.Source} {
		if len(v) > 512 {
			return tandem.FieldErrorf(name, "longer than 512 characters")
		}
	}
	if len(r.Target) > 2048 {
		return tandem.FieldErrorf("target", "longer than 2048 characters")
	}
	if len(r.Message) > 8192 {
		return tandem.FieldErrorf("message", "longer than 8192 characters")
	}
	if len(r.Checks) > 1000 {
		return tandem.FieldErrorf("checks", "more than 1000 checks")
	}
	for i, c := range r.Checks {
		if c.Name == "" || len(c.Name) > 512 {
			return tandem.FieldErrorf(fmt.Sprintf("checks[%d].name", i), "want 1 to 512 characters")
		}
		if !slices.Contains(Verdicts, c.Verdict) {
			return tandem.FieldErrorf(fmt.Sprintf("checks[%d].verdict", i), "want one of %s, got %q", strings.Join(Verdicts, ", "), c.Verdict)
		}
	}
	if r.Checks == nil {
		r.Checks = []Check{}
	}
	if r.Commit != "" && !commitRe.MatchString(r.Commit) {
		return tandem.FieldErrorf("commit", "want a git SHA (7 to 64 hex digits), got %q", clipText(r.Commit, 80))
	}
	r.Commit = strings.ToLower(r.Commit)
	if r.DurationMs < 0 || r.ChangeID < 0 {
		return tandem.FieldErrorf("duration_ms", "must not be negative")
	}
	return nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Store keeps gate results.
type Store struct {
	db *db.DB

	mu       sync.RWMutex
	recorded []func(ctx context.Context, tx *db.Tx, r Result) error
}

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// OnRecorded adds fn to what runs, in the transaction that stores it, for
// every result recorded (whatever its verdict, from any caller: the API,
// verification). An error from fn stores nothing, so a job fn enqueues
// commits with its result or not at all.
func (s *Store) OnRecorded(fn func(ctx context.Context, tx *db.Tx, r Result) error) {
	s.mu.Lock()
	s.recorded = append(s.recorded, fn)
	s.mu.Unlock()
}

// Record stores a result (after Normalize) with CreatedAt now and returns it
// with its id; the OnRecorded hooks run in its transaction.
func (s *Store) Record(ctx context.Context, r Result, now time.Time) (Result, error) {
	return s.RecordThen(ctx, r, now, nil)
}

// RecordThen is Record that, for a failing result, runs onFail (when not
// nil) in the transaction that stores it: jobs it enqueues commit with the
// result, and its error stores nothing.
func (s *Store) RecordThen(ctx context.Context, r Result, now time.Time, onFail func(ctx context.Context, tx *db.Tx, r Result) error) (Result, error) {
	if err := r.Normalize(); err != nil {
		return Result{}, err
	}
	checks, _ := json.Marshal(r.Checks)
	r.CreatedAt = db.Time(db.Millis(now))
	s.mu.RLock()
	hooks := s.recorded
	s.mu.RUnlock()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO gate_results (kind, service, target, verdict, message, checks, actor, source, change_id, duration_ms, created_at, commit_sha, fail_open)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.Kind, r.Service, r.Target, r.Verdict, r.Message, string(checks), r.Actor, r.Source, r.ChangeID, r.DurationMs, db.Millis(now), r.Commit, r.FailOpen).Scan(&r.ID)
		if err != nil {
			return err
		}
		for _, fn := range hooks {
			if err := fn(ctx, tx, r); err != nil {
				return err
			}
		}
		if r.Verdict != Fail || onFail == nil {
			return nil
		}
		return onFail(ctx, tx, r)
	})
	if err != nil {
		return Result{}, fmt.Errorf("record gate result: %w", err)
	}
	return r, nil
}

const resultColumns = `id, kind, service, target, verdict, message, checks, actor, source, change_id, duration_ms, created_at, commit_sha, fail_open`

// Filter selects results for List; zero fields select everything.
type Filter struct {
	Service string
	Kind    string
	Verdict string
	Since   time.Time
	Until   time.Time
	// Limit caps the answer (default 100, at most 1000), newest first.
	Limit int
}

// List returns the results matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Result, error) {
	q := `SELECT ` + resultColumns + ` FROM gate_results WHERE 1=1`
	var args []any
	add := func(cond string, v any) { q += " AND " + cond; args = append(args, v) }
	if f.Service != "" {
		add("service = ?", f.Service)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Verdict != "" {
		add("verdict = ?", f.Verdict)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", db.Millis(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < ?", db.Millis(f.Until))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list gate results: %w", err)
	}
	defer rows.Close()
	out := []Result{}
	for rows.Next() {
		var r Result
		var checks string
		var created int64
		if err := rows.Scan(&r.ID, &r.Kind, &r.Service, &r.Target, &r.Verdict, &r.Message, &checks, &r.Actor, &r.Source, &r.ChangeID, &r.DurationMs, &created, &r.Commit, &r.FailOpen); err != nil {
			return nil, fmt.Errorf("list gate results: %w", err)
		}
		r.CreatedAt = db.Time(created)
		if err := json.Unmarshal([]byte(checks), &r.Checks); err != nil {
			return nil, fmt.Errorf("gate result %d: checks: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Get returns one result, or not_found.
func (s *Store) Get(ctx context.Context, id int64) (Result, error) {
	var r Result
	var checks string
	var created int64
	err := s.db.QueryRow(ctx, `SELECT `+resultColumns+` FROM gate_results WHERE id = ?`, id).
		Scan(&r.ID, &r.Kind, &r.Service, &r.Target, &r.Verdict, &r.Message, &checks, &r.Actor, &r.Source, &r.ChangeID, &r.DurationMs, &created, &r.Commit, &r.FailOpen)
	if err == sql.ErrNoRows {
		return Result{}, tandem.Errorf(tandem.ENotFound, "no gate result with id %d", id)
	}
	if err != nil {
		return Result{}, fmt.Errorf("get gate result: %w", err)
	}
	r.CreatedAt = db.Time(created)
	_ = json.Unmarshal([]byte(checks), &r.Checks)
	return r, nil
}

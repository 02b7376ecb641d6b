package chaos

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

// Sources of chaos runs.
const (
	SourceTandem    = "tandem"
	SourceLitmus    = "litmus"
	SourceChaosMesh = "chaos-mesh"
	SourceGremlin   = "gremlin"
)

// Settings are what a run was asked to do, kept with it.
type Settings struct {
	// Cooldown is how long the SLIs are watched after the fault ends.
	Cooldown string `json:"cooldown,omitempty"`
	// AbortBurnRate is the burn rate that aborts the run (0: none).
	AbortBurnRate float64 `json:"abort_burn_rate,omitempty"`
	// DegradedShare is the budget share above which the run is degraded.
	DegradedShare float64 `json:"degraded_share"`
	// SLOs are the SLOs that judge the run.
	SLOs []string `json:"slos"`
}

// Run is one chaos experiment: a change event of kind chaos (ID is its id)
// and its verdict.
type Run struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Service     string   `json:"service"`
	Environment string   `json:"environment"`
	Source      string   `json:"source"`
	Command     string   `json:"command,omitempty"`
	Actor       string   `json:"actor,omitempty"`
	Settings    Settings `json:"settings"`
	// Status is running until the verdict is given, then finished.
	Status string `json:"status"`
	// Verdict is held, degraded, broken or inconclusive; null while the
	// run is going.
	Verdict *string `json:"verdict"`
	Reason  string  `json:"reason,omitempty"`
	Costs   []Cost  `json:"costs"`
	Aborted bool    `json:"aborted"`
	// ToolVerdict is what the chaos tool itself reported (imports).
	ToolVerdict string     `json:"tool_verdict,omitempty"`
	ToolDetail  string     `json:"tool_detail,omitempty"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	// JudgedUntil is the end of the window the verdict read (the fault's
	// end plus the cool-down).
	JudgedUntil *time.Time `json:"judged_until"`
}

// Run statuses.
const (
	StatusRunning  = "running"
	StatusFinished = "finished"
)

// Store keeps chaos runs.
type Store struct{ db *db.DB }

// NewStore returns a Store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

const runColumns = `r.change_id, r.name, r.service, r.environment, r.source, r.command, r.settings, r.verdict, r.reason, r.costs,
	r.tool_verdict, r.tool_detail, r.aborted, r.started_at, r.finished_at, r.judged_until, c.actor`

// Put inserts or replaces the run stored for r.ID.
func (s *Store) Put(ctx context.Context, r Run, now time.Time) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error { return putTx(ctx, tx, r, now) })
}

func putTx(ctx context.Context, tx *db.Tx, r Run, now time.Time) error {
	settings, err := json.Marshal(r.Settings)
	if err != nil {
		return err
	}
	if r.Costs == nil {
		r.Costs = []Cost{}
	}
	costs, err := json.Marshal(r.Costs)
	if err != nil {
		return err
	}
	verdict := ""
	if r.Verdict != nil {
		verdict = *r.Verdict
	}
	aborted := 0
	if r.Aborted {
		aborted = 1
	}
	opt := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return db.Millis(*t)
	}
	_, err = tx.Exec(ctx, `INSERT INTO chaos_runs (change_id, name, service, environment, source, command, settings, verdict, reason, costs,
		tool_verdict, tool_detail, aborted, started_at, finished_at, judged_until, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (change_id) DO UPDATE SET name = excluded.name, command = excluded.command, settings = excluded.settings,
		verdict = excluded.verdict, reason = excluded.reason, costs = excluded.costs, tool_verdict = excluded.tool_verdict,
		tool_detail = excluded.tool_detail, aborted = excluded.aborted, started_at = excluded.started_at,
		finished_at = excluded.finished_at, judged_until = excluded.judged_until, updated_at = excluded.updated_at`,
		r.ID, r.Name, r.Service, r.Environment, r.Source, r.Command, string(settings), verdict, r.Reason, string(costs),
		r.ToolVerdict, r.ToolDetail, aborted, db.Millis(r.StartedAt), opt(r.FinishedAt), opt(r.JudgedUntil), db.Millis(now))
	if err != nil {
		return fmt.Errorf("store chaos run: %w", err)
	}
	return nil
}

// Get returns the run of change id, or not_found.
func (s *Store) Get(ctx context.Context, id int64) (Run, error) {
	rows, err := s.db.Query(ctx, "SELECT "+runColumns+" FROM chaos_runs r JOIN change_events c ON c.id = r.change_id WHERE r.change_id = ?", id)
	if err != nil {
		return Run{}, err
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return Run{}, err
	}
	if len(runs) == 0 {
		return Run{}, tandem.Errorf(tandem.ENotFound, "no chaos run with id %d", id)
	}
	return runs[0], nil
}

// Filter selects runs.
type Filter struct {
	Service     string
	Environment string
	// Since keeps runs started at or after it (zero: all).
	Since time.Time
	// Limit caps the answer (default 100, at most 1000), newest first.
	Limit int
}

// List returns the runs matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Run, error) {
	var where []string
	var args []any
	if f.Service != "" {
		where, args = append(where, "r.service = ?"), append(args, f.Service)
	}
	if f.Environment != "" {
		where, args = append(where, "r.environment = ?"), append(args, f.Environment)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "r.started_at >= ?"), append(args, db.Millis(f.Since))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	q := "SELECT " + runColumns + " FROM chaos_runs r JOIN change_events c ON c.id = r.change_id"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY r.started_at DESC, r.change_id DESC LIMIT %d", f.Limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanRuns(rows)
}

// Verdicts returns the verdicts of the runs of the given change ids that
// have one.
func (s *Store) Verdicts(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.Query(ctx, "SELECT change_id, verdict FROM chaos_runs WHERE verdict <> '' AND change_id IN ("+
		strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		var r Run
		var settings, costs, verdict string
		var aborted int
		var started int64
		var finished, judged sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Name, &r.Service, &r.Environment, &r.Source, &r.Command, &settings, &verdict, &r.Reason, &costs,
			&r.ToolVerdict, &r.ToolDetail, &aborted, &started, &finished, &judged, &r.Actor); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(settings), &r.Settings); err != nil {
			return nil, fmt.Errorf("chaos run %d settings: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(costs), &r.Costs); err != nil {
			return nil, fmt.Errorf("chaos run %d costs: %w", r.ID, err)
		}
		if r.Settings.SLOs == nil {
			r.Settings.SLOs = []string{}
		}
		r.Status = StatusRunning
		if verdict != "" {
			v := verdict
			r.Verdict, r.Status = &v, StatusFinished
		}
		r.Aborted = aborted != 0
		r.StartedAt = db.Time(started)
		if finished.Valid {
			t := db.Time(finished.Int64)
			r.FinishedAt = &t
		}
		if judged.Valid {
			t := db.Time(judged.Int64)
			r.JudgedUntil = &t
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

package change

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

// Store keeps change events and commits in the database. It is safe for
// concurrent use.
type Store struct {
	db *db.DB

	mu       sync.RWMutex
	finished []func(ctx context.Context, tx *db.Tx, e Event) error
}

// OnFinished adds fn to what runs, in the recording transaction, for each
// change event that is stored finished (recorded with a final status, or
// moved from in_progress to one). An error from fn rolls the whole write
// back, so a job fn enqueues commits with its event or not at all.
func (s *Store) OnFinished(fn func(ctx context.Context, tx *db.Tx, e Event) error) {
	s.mu.Lock()
	s.finished = append(s.finished, fn)
	s.mu.Unlock()
}

func (s *Store) runFinished(ctx context.Context, tx *db.Tx, e Event) error {
	s.mu.RLock()
	fns := s.finished
	s.mu.RUnlock()
	for _, fn := range fns {
		if err := fn(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// NewStore returns a store on d (migrations applied by db.Open).
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// DB returns the store's database.
func (s *Store) DB() *db.DB { return s.db }

const eventColumns = `id, service, environment, kind, version, commit_sha, commits, started_at, finished_at,
status, actor, source, external_id, links, labels, verify, failure_reason, created_at, updated_at, github_deployment_id`

const insertEvent = `INSERT INTO change_events (service, environment, kind, version, commit_sha, commits, started_at, finished_at, at,
status, actor, source, external_id, links, labels, verify, failure_reason, created_at, updated_at, github_deployment_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source, external_id) WHERE external_id <> '' DO NOTHING
RETURNING id`

// Record normalizes and stores events in one transaction: either all are
// stored or none. An event whose (Source, ExternalID) is stored already is
// not written again; its answer is the first record with Existing set.
// Answers are in the order of events. A bad item fails the whole batch with
// an *tandem.Error (code invalid) whose field names it ("events[3].status")
// when len(events) > 1, or the bare field for a single event.
func (s *Store) Record(ctx context.Context, events []Event, now time.Time) ([]Event, error) {
	return s.record(ctx, events, now, false)
}

// record is Record; with finish, an event whose key is stored already while
// in progress moves the stored one to the event's final status, in the
// same transaction.
func (s *Store) record(ctx context.Context, events []Event, now time.Time, finish bool) ([]Event, error) {
	if len(events) == 0 {
		return nil, tandem.FieldErrorf("events", "empty batch")
	}
	evs := make([]Event, len(events))
	copy(evs, events)
	for i := range evs {
		prefix := ""
		if len(evs) > 1 {
			prefix = fmt.Sprintf("events[%d].", i)
		}
		if err := evs[i].Normalize(prefix, now); err != nil {
			return nil, err
		}
	}
	nowMs := db.Millis(now)
	norm := slices.Clone(evs)
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := s.insert(ctx, tx, evs, nowMs); err != nil {
			return err
		}
		for _, e := range evs {
			if !e.Existing && e.Status != StatusInProgress {
				if err := s.runFinished(ctx, tx, e); err != nil {
					return err
				}
			}
		}
		if !finish {
			return nil
		}
		for i, e := range evs {
			in := norm[i]
			if !e.Existing || e.Status != StatusInProgress || in.Status == StatusInProgress {
				continue
			}
			upd, err := s.finishTx(ctx, tx, e.ID, in.Status, in.FailureReason, in.FinishedAt, now)
			if err != nil {
				return err
			}
			upd.Existing = true
			evs[i] = upd
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return evs, nil
}

// insert stores normalized events in tx, replacing each with its record.
func (s *Store) insert(ctx context.Context, tx *db.Tx, evs []Event, nowMs int64) error {
	if tx.Dialect() == db.Postgres && len(evs) > 1 {
		return insertMany(ctx, tx, evs, nowMs)
	}
	ins, err := tx.Prepare(ctx, insertEvent)
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	defer ins.Close()
	for i := range evs {
		e := &evs[i]
		var id int64
		err := ins.QueryRowContext(ctx, eventArgs(e, nowMs)...).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			first, err := getByKey(ctx, tx, e.Source, e.ExternalID)
			if err != nil {
				return err
			}
			first.Existing = true
			*e = first
		case err != nil:
			return fmt.Errorf("insert change event: %w", err)
		default:
			e.ID = id
			e.CreatedAt, e.UpdatedAt = db.Time(nowMs), db.Time(nowMs)
		}
	}
	return nil
}

func eventArgs(e *Event, nowMs int64) []any {
	commits, _ := json.Marshal(nonNil(e.Commits))
	links, _ := json.Marshal(nonNilMap(e.Links))
	labels, _ := json.Marshal(nonNil(e.Labels))
	return []any{e.Service, e.Environment, e.Kind, e.Version, e.Commit, string(commits),
		db.Millis(e.StartedAt), db.Millis(e.FinishedAt), db.Millis(e.At()), e.Status, e.Actor, e.Source, e.ExternalID,
		string(links), string(labels), e.Verify, e.FailureReason, nowMs, nowMs, e.GitHubDeploymentID}
}

// insertMany inserts events with multi-row statements (PostgreSQL, where a
// round trip per row is the cost). PostgreSQL returns the inserted rows of
// an INSERT … VALUES in the order of the VALUES list; rows skipped as
// duplicates are absent, and are read back by their key afterwards.
func insertMany(ctx context.Context, tx *db.Tx, evs []Event, nowMs int64) error {
	const chunk = 200
	head, tail, _ := strings.Cut(insertEvent, "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	tail = strings.Replace(tail, "RETURNING id", "RETURNING id, source, external_id", 1)
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for lo := 0; lo < len(evs); lo += chunk {
		part := evs[lo:min(lo+chunk, len(evs))]
		args := make([]any, 0, len(part)*20)
		for i := range part {
			args = append(args, eventArgs(&part[i], nowMs)...)
		}
		q := head + "VALUES " + strings.TrimSuffix(strings.Repeat(row+",", len(part)), ",") + tail
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("insert change events: %w", err)
		}
		type ret struct {
			id          int64
			source, ext string
		}
		var got []ret
		for rows.Next() {
			var r ret
			if err := rows.Scan(&r.id, &r.source, &r.ext); err != nil {
				rows.Close()
				return fmt.Errorf("insert change events: %w", err)
			}
			got = append(got, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("insert change events: %w", err)
		}
		k := 0
		for i := range part {
			e := &part[i]
			if k < len(got) && got[k].source == e.Source && got[k].ext == e.ExternalID {
				e.ID = got[k].id
				e.CreatedAt, e.UpdatedAt = db.Time(nowMs), db.Time(nowMs)
				k++
				continue
			}
			if e.ExternalID == "" {
				return fmt.Errorf("insert change events: answer out of order at item %d", lo+i)
			}
			first, err := getByKey(ctx, tx, e.Source, e.ExternalID)
			if err != nil {
				return err
			}
			first.Existing = true
			*e = first
		}
		if k != len(got) {
			return fmt.Errorf("insert change events: %d rows returned, %d matched", len(got), k)
		}
	}
	return nil
}

func getByKey(ctx context.Context, tx *db.Tx, source, externalID string) (Event, error) {
	rows, err := tx.Query(ctx, "SELECT "+eventColumns+" FROM change_events WHERE source = ? AND external_id = ?", source, externalID)
	if err != nil {
		return Event{}, fmt.Errorf("read change event: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, fmt.Errorf("change event %s/%s vanished during insert", source, externalID)
	}
	return evs[0], nil
}

// Filter selects events for List. Zero fields select everything.
type Filter struct {
	Services    []string
	Kinds       []string
	Statuses    []string
	Environment string
	// Since and Until bound the event's moment (Event.At): Since <= at < Until.
	Since, Until time.Time
	// Limit caps the answer (default 1000, at most 100000), newest first.
	Limit int
	// Ascending returns the oldest first instead.
	Ascending bool
}

// selectEvents returns the SELECT of the events matching f (without order
// or limit) and its arguments.
func (f Filter) selectEvents() (string, []any) {
	var (
		where []string
		args  []any
	)
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("service", f.Services)
	in("kind", f.Kinds)
	in("status", f.Statuses)
	if f.Environment != "" {
		where = append(where, "environment = ?")
		args = append(args, f.Environment)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, db.Millis(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, db.Millis(f.Until))
	}
	q := "SELECT " + eventColumns + " FROM change_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q, args
}

// List returns the events matching f, newest first (or oldest first with
// f.Ascending), at most f.Limit.
func (s *Store) List(ctx context.Context, f Filter) ([]Event, error) {
	q, args := f.selectEvents()
	order := "DESC"
	if f.Ascending {
		order = "ASC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	limit = min(limit, 100000)
	q += fmt.Sprintf(" ORDER BY at %s, id %s LIMIT %d", order, order, limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list change events: %w", err)
	}
	return scanEvents(rows)
}

// Get returns the event with the id, or an *tandem.Error with code not_found.
func (s *Store) Get(ctx context.Context, id int64) (Event, error) {
	rows, err := s.db.Query(ctx, "SELECT "+eventColumns+" FROM change_events WHERE id = ?", id)
	if err != nil {
		return Event{}, fmt.Errorf("get change event: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, tandem.Errorf(tandem.ENotFound, "no change event with id %d", id)
	}
	return evs[0], nil
}

// SetStatus changes an event's status, as post-deploy verification does when
// it marks a deploy failed, or a pipeline reporting the end of a deploy.
// Leaving in_progress sets FinishedAt to now unless it is set; going back to
// in_progress is refused (conflict). reason is kept as FailureReason for
// failed and rolled_back, and cleared for success. It returns the updated
// event, or not_found.
func (s *Store) SetStatus(ctx context.Context, id int64, status, reason string, now time.Time) (Event, error) {
	return s.Finish(ctx, id, status, reason, now, now)
}

// Finish is SetStatus with the finish time given apart from now (a webhook
// reporting when the deploy ended). finishedAt is used only when the event
// has no finish yet.
func (s *Store) Finish(ctx context.Context, id int64, status, reason string, finishedAt, now time.Time) (Event, error) {
	if !slices.Contains(Statuses, status) {
		return Event{}, tandem.FieldErrorf("status", "unknown status %q: want one of %s", status, strings.Join(Statuses, ", "))
	}
	if len(reason) > maxText {
		return Event{}, tandem.FieldErrorf("failure_reason", "longer than %d characters", maxText)
	}
	if finishedAt.After(now.Add(MaxFuture)) {
		return Event{}, tandem.FieldErrorf("finished_at", "more than %s in the future", MaxFuture)
	}
	var out Event
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.finishTx(ctx, tx, id, status, reason, finishedAt, now)
		return err
	})
	return out, err
}

func (s *Store) finishTx(ctx context.Context, tx *db.Tx, id int64, status, reason string, finishedAt, now time.Time) (Event, error) {
	rows, err := tx.Query(ctx, "SELECT "+eventColumns+" FROM change_events WHERE id = ?", id)
	if err != nil {
		return Event{}, fmt.Errorf("get change event: %w", err)
	}
	evs, err := scanEvents(rows)
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, tandem.Errorf(tandem.ENotFound, "no change event with id %d", id)
	}
	e := evs[0]
	was := e.Status
	if status == StatusInProgress && e.Status != StatusInProgress {
		return Event{}, tandem.Errorf(tandem.EConflict, "change event %d is %s; it cannot go back to in_progress", id, e.Status)
	}
	e.Status = status
	switch status {
	case StatusSuccess:
		e.FailureReason = ""
	case StatusFailed, StatusRolledBack:
		if reason != "" {
			e.FailureReason = reason
		}
	}
	if status != StatusInProgress && e.FinishedAt.IsZero() {
		if finishedAt.IsZero() {
			finishedAt = now
		}
		e.FinishedAt = trunc(finishedAt)
		if !e.StartedAt.IsZero() && e.FinishedAt.Before(e.StartedAt) {
			e.FinishedAt = e.StartedAt
		}
	}
	e.UpdatedAt = db.Time(db.Millis(now))
	e.DurationMs = duration(e.StartedAt, e.FinishedAt)
	if _, err := tx.Exec(ctx, "UPDATE change_events SET status = ?, failure_reason = ?, finished_at = ?, at = ?, updated_at = ? WHERE id = ?",
		e.Status, e.FailureReason, db.Millis(e.FinishedAt), db.Millis(e.At()), db.Millis(e.UpdatedAt), id); err != nil {
		return Event{}, fmt.Errorf("update change event: %w", err)
	}
	if was == StatusInProgress && status != StatusInProgress {
		if err := s.runFinished(ctx, tx, e); err != nil {
			return Event{}, err
		}
	}
	return e, nil
}

// Around returns the changes to any of services (all services when empty)
// whose moment lies within [at-before, at+after], nearest to at first: the
// suspects for an incident that started at at.
func (s *Store) Around(ctx context.Context, services []string, at time.Time, before, after time.Duration) ([]Event, error) {
	return s.AroundIn(ctx, "", services, at, before, after)
}

// AroundIn is Around within one environment (every environment when ""):
// the suspects of an incident come from the incident's environment only.
func (s *Store) AroundIn(ctx context.Context, environment string, services []string, at time.Time, before, after time.Duration) ([]Event, error) {
	evs, err := s.List(ctx, Filter{Services: services, Environment: environment, Since: at.Add(-before), Until: at.Add(after + time.Millisecond), Limit: 10000})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(evs, func(a, b Event) int {
		da, dbb := absDur(a.At().Sub(at)), absDur(b.At().Sub(at))
		// Changes before the moment come first at equal distance: they can
		// have caused it.
		if da == dbb {
			return a.At().Compare(b.At())
		}
		return int(da - dbb)
	})
	return evs, nil
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func scanEvents(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e                               Event
			commits, links, labels          string
			started, finished, created, upd int64
		)
		if err := rows.Scan(&e.ID, &e.Service, &e.Environment, &e.Kind, &e.Version, &e.Commit, &commits, &started, &finished,
			&e.Status, &e.Actor, &e.Source, &e.ExternalID, &links, &labels, &e.Verify, &e.FailureReason, &created, &upd, &e.GitHubDeploymentID); err != nil {
			return nil, fmt.Errorf("scan change event: %w", err)
		}
		e.StartedAt, e.FinishedAt, e.CreatedAt, e.UpdatedAt = db.Time(started), db.Time(finished), db.Time(created), db.Time(upd)
		if commits != "[]" && commits != "" {
			if err := json.Unmarshal([]byte(commits), &e.Commits); err != nil {
				return nil, fmt.Errorf("change event %d: commits: %w", e.ID, err)
			}
		}
		if links != "{}" && links != "" {
			if err := json.Unmarshal([]byte(links), &e.Links); err != nil {
				return nil, fmt.Errorf("change event %d: links: %w", e.ID, err)
			}
		}
		if labels != "[]" && labels != "" {
			if err := json.Unmarshal([]byte(labels), &e.Labels); err != nil {
				return nil, fmt.Errorf("change event %d: labels: %w", e.ID, err)
			}
		}
		e.DurationMs = duration(e.StartedAt, e.FinishedAt)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read change events: %w", err)
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// RecordCommits stores commits with their times in one transaction. A commit
// already stored for the service keeps its first times, except that a
// merge time is filled in when it was unknown. It returns how many commits
// were new.
func (s *Store) RecordCommits(ctx context.Context, commits []Commit, now time.Time) (int, error) {
	cs := make([]Commit, len(commits))
	copy(cs, commits)
	for i := range cs {
		prefix := ""
		if len(cs) > 1 {
			prefix = fmt.Sprintf("commits[%d].", i)
		}
		if err := cs[i].Normalize(prefix, now); err != nil {
			return 0, err
		}
	}
	created := 0
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		ins, err := tx.Prepare(ctx, `INSERT INTO change_commits (service, sha, committed_at, merged_at, source, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (service, sha) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("prepare insert commit: %w", err)
		}
		defer ins.Close()
		var upd *sql.Stmt
		for _, c := range cs {
			res, err := ins.ExecContext(ctx, c.Service, c.SHA, db.Millis(c.CommittedAt), db.Millis(c.MergedAt), c.Source, db.Millis(now))
			if err != nil {
				return fmt.Errorf("insert commit: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				created++
				continue
			}
			if c.MergedAt.IsZero() {
				continue
			}
			if upd == nil {
				if upd, err = tx.Prepare(ctx, "UPDATE change_commits SET merged_at = ? WHERE service = ? AND sha = ? AND merged_at = 0"); err != nil {
					return fmt.Errorf("prepare update commit: %w", err)
				}
				defer upd.Close()
			}
			if _, err := upd.ExecContext(ctx, db.Millis(c.MergedAt), c.Service, c.SHA); err != nil {
				return fmt.Errorf("update commit: %w", err)
			}
		}
		return nil
	})
	return created, err
}

// CommitFilter selects commits for Commits.
type CommitFilter struct {
	Services []string
	// Since and Until bound CommittedAt: Since <= committed_at < Until.
	Since, Until time.Time
}

// EachCommit calls fn for every stored commit matching f, ordered by service
// and time. It streams: memory does not grow with the number of commits.
func (s *Store) EachCommit(ctx context.Context, f CommitFilter, fn func(Commit) error) error {
	var (
		where []string
		args  []any
	)
	if len(f.Services) > 0 {
		where = append(where, "service IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.Services)), ",")+")")
		for _, v := range f.Services {
			args = append(args, v)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "committed_at >= ?")
		args = append(args, db.Millis(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "committed_at < ?")
		args = append(args, db.Millis(f.Until))
	}
	q := "SELECT service, sha, committed_at, merged_at, source FROM change_commits"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY service, committed_at, sha"
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("list commits: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c              Commit
			at, mergedAtMs int64
		)
		if err := rows.Scan(&c.Service, &c.SHA, &at, &mergedAtMs, &c.Source); err != nil {
			return fmt.Errorf("scan commit: %w", err)
		}
		c.CommittedAt, c.MergedAt = db.Time(at), db.Time(mergedAtMs)
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Commits returns the commits matching f (see EachCommit).
func (s *Store) Commits(ctx context.Context, f CommitFilter) ([]Commit, error) {
	var out []Commit
	err := s.EachCommit(ctx, f, func(c Commit) error { out = append(out, c); return nil })
	return out, err
}

// EachEvent streams the events matching f in ascending order of their
// moment, without a limit, for bulk readers (the DORA loader).
func (s *Store) EachEvent(ctx context.Context, f Filter, fn func(Event) error) error {
	q, args := f.selectEvents()
	q += " ORDER BY at, id"
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("list change events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e                               Event
			commits, links, labels          string
			started, finished, created, upd int64
		)
		if err := rows.Scan(&e.ID, &e.Service, &e.Environment, &e.Kind, &e.Version, &e.Commit, &commits, &started, &finished,
			&e.Status, &e.Actor, &e.Source, &e.ExternalID, &links, &labels, &e.Verify, &e.FailureReason, &created, &upd, &e.GitHubDeploymentID); err != nil {
			return fmt.Errorf("scan change event: %w", err)
		}
		e.StartedAt, e.FinishedAt, e.CreatedAt, e.UpdatedAt = db.Time(started), db.Time(finished), db.Time(created), db.Time(upd)
		if commits != "[]" && commits != "" {
			if err := json.Unmarshal([]byte(commits), &e.Commits); err != nil {
				return fmt.Errorf("change event %d: commits: %w", e.ID, err)
			}
		}
		if labels != "[]" && labels != "" {
			if err := json.Unmarshal([]byte(labels), &e.Labels); err != nil {
				return fmt.Errorf("change event %d: labels: %w", e.ID, err)
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Apply records events like Record and, for an event whose key was stored
// already while in progress, moves the stored one to the new status (a
// later webhook for the same deployment reporting its outcome). It is how
// sources that report a change more than once (GitHub's deployment_status,
// workflow_run; deploy start and finish) are stored. Recording and moving
// happen in one transaction.
func (s *Store) Apply(ctx context.Context, events []Event, now time.Time) ([]Event, error) {
	return s.record(ctx, events, now, true)
}

package oncall

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

// Store keeps run-time overrides (those made through the API and CLI) in
// the database.
type Store struct {
	DB *db.DB
}

// NewStore returns a Store on d.
func NewStore(d *db.DB) *Store { return &Store{DB: d} }

// MaxOverrideLength bounds one override; longer spans are schedule changes
// and belong in the config.
const MaxOverrideLength = 90 * 24 * time.Hour

// CheckOverride validates an override's own fields (not whether its
// schedule or person exist): a *tandem.Error naming the field.
func CheckOverride(o Override) error {
	switch {
	case strings.TrimSpace(o.Schedule) == "":
		return tandem.FieldErrorf("schedule", "required")
	case strings.TrimSpace(o.Person) == "":
		return tandem.FieldErrorf("person", "required")
	case o.Start.IsZero():
		return tandem.FieldErrorf("start", "required")
	case o.End.IsZero():
		return tandem.FieldErrorf("end", "required")
	case !o.End.After(o.Start):
		return tandem.FieldErrorf("end", "must be after start")
	case o.End.Sub(o.Start) > MaxOverrideLength:
		return tandem.FieldErrorf("end", "an override may last at most %d days", int(MaxOverrideLength/(24*time.Hour)))
	case len(o.Reason) > 1000:
		return tandem.FieldErrorf("reason", "at most 1000 characters")
	case len(o.Author) > 200:
		return tandem.FieldErrorf("author", "at most 200 characters")
	}
	return nil
}

// Add stores a new override, created at now, and returns it with its id.
// Times are kept to the millisecond.
func (s *Store) Add(ctx context.Context, o Override, now time.Time) (Override, error) {
	if err := CheckOverride(o); err != nil {
		return Override{}, err
	}
	o.Start, o.End = o.Start.UTC().Truncate(time.Millisecond), o.End.UTC().Truncate(time.Millisecond)
	o.CreatedAt = now.UTC().Truncate(time.Millisecond)
	o.Source = SourceAPI
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO oncall_overrides (schedule, person, starts_at, ends_at, author, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			o.Schedule, o.Person, db.Millis(o.Start), db.Millis(o.End), o.Author, o.Reason, db.Millis(o.CreatedAt)).Scan(&o.ID)
	})
	if err != nil {
		return Override{}, fmt.Errorf("add override: %w", err)
	}
	return o, nil
}

// List returns the overrides of schedule ("" for every schedule) that
// overlap [from, to) (a zero bound is open), ordered by creation (id), so
// later ones win when attached to a schedule.
func (s *Store) List(ctx context.Context, schedule string, from, to time.Time) ([]Override, error) {
	q := `SELECT id, schedule, person, starts_at, ends_at, author, reason, created_at FROM oncall_overrides WHERE 1=1`
	var args []any
	if schedule != "" {
		q += ` AND schedule = ?`
		args = append(args, schedule)
	}
	if !from.IsZero() {
		q += ` AND ends_at > ?`
		args = append(args, db.Millis(from))
	}
	if !to.IsZero() {
		q += ` AND starts_at < ?`
		args = append(args, db.Millis(to))
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list overrides: %w", err)
	}
	defer rows.Close()
	var out []Override
	for rows.Next() {
		var o Override
		var start, end, created int64
		if err := rows.Scan(&o.ID, &o.Schedule, &o.Person, &start, &end, &o.Author, &o.Reason, &created); err != nil {
			return nil, fmt.Errorf("list overrides: %w", err)
		}
		o.Start, o.End, o.CreatedAt = db.Time(start), db.Time(end), db.Time(created)
		o.Source = SourceAPI
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list overrides: %w", err)
	}
	return out, nil
}

// Get returns one override of schedule, or a not_found error.
func (s *Store) Get(ctx context.Context, schedule string, id int64) (Override, error) {
	var o Override
	var start, end, created int64
	err := s.DB.QueryRow(ctx, `SELECT id, schedule, person, starts_at, ends_at, author, reason, created_at
		FROM oncall_overrides WHERE id = ? AND schedule = ?`, id, schedule).
		Scan(&o.ID, &o.Schedule, &o.Person, &start, &end, &o.Author, &o.Reason, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Override{}, tandem.Errorf(tandem.ENotFound, "schedule %s has no override %d", schedule, id)
	}
	if err != nil {
		return Override{}, fmt.Errorf("get override: %w", err)
	}
	o.Start, o.End, o.CreatedAt = db.Time(start), db.Time(end), db.Time(created)
	o.Source = SourceAPI
	return o, nil
}

// Delete removes override id of schedule and returns it; a not_found error
// when there is none.
func (s *Store) Delete(ctx context.Context, schedule string, id int64) (Override, error) {
	var o Override
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		var start, end, created int64
		err := tx.QueryRow(ctx, `DELETE FROM oncall_overrides WHERE id = ? AND schedule = ?
			RETURNING id, schedule, person, starts_at, ends_at, author, reason, created_at`, id, schedule).
			Scan(&o.ID, &o.Schedule, &o.Person, &start, &end, &o.Author, &o.Reason, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return tandem.Errorf(tandem.ENotFound, "schedule %s has no override %d", schedule, id)
		}
		if err != nil {
			return fmt.Errorf("delete override: %w", err)
		}
		o.Start, o.End, o.CreatedAt = db.Time(start), db.Time(end), db.Time(created)
		o.Source = SourceAPI
		return nil
	})
	return o, err
}

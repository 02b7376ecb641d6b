package toil

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

// Store keeps toil entries in the database.
type Store struct{ db *db.DB }

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

const entryCols = "id, at, minutes, category, service, team, person, note, source, external_id, created_at"

// Log validates and records one entry and returns it with its id.
func (s *Store) Log(ctx context.Context, e Entry, now time.Time) (Entry, error) {
	out, err := s.Import(ctx, []Entry{e}, now)
	if err != nil {
		return Entry{}, err
	}
	return out.Entries[0], nil
}

// ImportOutcome says what an import recorded.
type ImportOutcome struct {
	Entries []Entry `json:"entries"`
	// Created counts new entries; Existing counts entries whose
	// (source, external_id) was recorded before and left as it was.
	Created  int `json:"created"`
	Existing int `json:"existing"`
}

// Import validates every entry and records them all in one transaction, or
// none: the first invalid entry is returned as an *tandem.Error whose field
// is "entries[i].<field>". Entries with an external id already recorded
// from the same source are left alone (an import can be repeated).
func (s *Store) Import(ctx context.Context, entries []Entry, now time.Time) (ImportOutcome, error) {
	out := ImportOutcome{Entries: make([]Entry, 0, len(entries))}
	for i := range entries {
		if err := entries[i].Validate(); err != nil {
			if te, ok := err.(*tandem.Error); ok && len(entries) > 1 {
				return out, &tandem.Error{Code: te.Code, Field: fmt.Sprintf("entries[%d].%s", i, te.Field), Message: te.Message}
			}
			return out, err
		}
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, e := range entries {
			e.At, e.CreatedAt = e.At.UTC(), now.UTC()
			row := tx.QueryRow(ctx, `INSERT INTO toil_entries (at, minutes, category, service, team, person, note, source, external_id, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (source, external_id) WHERE external_id <> '' DO NOTHING
				RETURNING id`,
				db.Millis(e.At), e.Minutes, e.Category, e.Service, e.Team, e.Person, e.Note, e.Source, e.ExternalID, db.Millis(now))
			if err := row.Scan(&e.ID); err == nil {
				out.Created++
				e.At = db.Time(db.Millis(e.At))
				e.CreatedAt = db.Time(db.Millis(now))
				out.Entries = append(out.Entries, e)
				continue
			} else if !isNoRows(err) {
				return fmt.Errorf("insert toil entry: %w", err)
			}
			prev, err := scanEntry(tx.QueryRow(ctx, "SELECT "+entryCols+" FROM toil_entries WHERE source = ? AND external_id = ?", e.Source, e.ExternalID))
			if err != nil {
				return fmt.Errorf("read existing toil entry: %w", err)
			}
			out.Existing++
			out.Entries = append(out.Entries, prev)
		}
		return nil
	})
	if err != nil {
		return ImportOutcome{}, err
	}
	return out, nil
}

// Filter selects entries; zero fields match everything. Since is
// inclusive, Until exclusive.
type Filter struct {
	Since, Until time.Time
	Category     string
	Service      string
	Team         string
	Person       string
	Limit        int
}

// List returns entries matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if !f.Since.IsZero() {
		add("at >= ?", db.Millis(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", db.Millis(f.Until))
	}
	if f.Category != "" {
		add("category = ?", NormalizeCategory(f.Category))
	}
	if f.Service != "" {
		add("service = ?", f.Service)
	}
	if f.Team != "" {
		add("team = ?", f.Team)
	}
	if f.Person != "" {
		add("person = ?", f.Person)
	}
	q := "SELECT " + entryCols + " FROM toil_entries"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list toil: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

func scanEntry(r scanner) (Entry, error) {
	var e Entry
	var at, created int64
	if err := r.Scan(&e.ID, &at, &e.Minutes, &e.Category, &e.Service, &e.Team, &e.Person, &e.Note, &e.Source, &e.ExternalID, &created); err != nil {
		return Entry{}, err
	}
	e.At, e.CreatedAt = db.Time(at), db.Time(created)
	return e, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

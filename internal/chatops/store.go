package chatops

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/internal/db"
)

// The package's SQL: every query of the chat_*, slack_*, phone_* and
// statuspage_* tables is here.

// message is a Slack message tandem posted about an incident.
type message struct {
	Channel, TS, Person string
}

func recordMessage(ctx context.Context, tx *db.Tx, incident int64, m message, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO chat_messages (incident_id, channel, ts, person, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (channel, ts) DO NOTHING`, incident, m.Channel, m.TS, m.Person, db.Millis(now))
	return err
}

func (s *Service) messages(ctx context.Context, incident int64) ([]message, error) {
	rows, err := s.DB.Query(ctx, `SELECT channel, ts, person FROM chat_messages WHERE incident_id = ? ORDER BY id`, incident)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []message
	for rows.Next() {
		var m message
		if err := rows.Scan(&m.Channel, &m.TS, &m.Person); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func hasMessages(ctx context.Context, tx *db.Tx, incident int64) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT id FROM chat_messages WHERE incident_id = ? LIMIT 1) m`, incident).Scan(&n)
	return n > 0, err
}

// channel is an incident channel.
type channel struct {
	Incident        int64
	ID, Name, URL   string
	MirroredThrough int64
	Archived        bool
}

type querier interface {
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

func channelOf(ctx context.Context, q querier, incident int64) (channel, bool, error) {
	c := channel{Incident: incident}
	var archived int64
	err := q.QueryRow(ctx, `SELECT channel, name, url, mirrored_through, archived_at FROM chat_channels WHERE incident_id = ?`, incident).
		Scan(&c.ID, &c.Name, &c.URL, &c.MirroredThrough, &archived)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	c.Archived = archived != 0
	return c, err == nil, err
}

func (s *Service) incidentOfChannel(ctx context.Context, id string) (int64, bool, error) {
	var inc int64
	err := s.DB.QueryRow(ctx, `SELECT incident_id FROM chat_channels WHERE channel = ? AND archived_at = 0`, id).Scan(&inc)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return inc, err == nil, err
}

func recordChannel(ctx context.Context, tx *db.Tx, c channel, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO chat_channels (incident_id, channel, name, url, mirrored_through, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id) DO NOTHING`, c.Incident, c.ID, c.Name, c.URL, c.MirroredThrough, db.Millis(now))
	return err
}

func (s *Service) markArchived(ctx context.Context, incident int64, now time.Time) error {
	_, err := s.DB.Exec(ctx, `UPDATE chat_channels SET archived_at = ? WHERE incident_id = ?`, db.Millis(now), incident)
	return err
}

func maxEventID(ctx context.Context, q querier, incident int64) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM incident_events WHERE incident_id = ?`, incident).Scan(&id)
	return id, err
}

// slackUser is a person's Slack member ID found by email ("" when Slack
// has no user with that email).
func (s *Service) slackUserOf(ctx context.Context, person string) (id, email string, at time.Time, ok bool, err error) {
	var ms int64
	err = s.DB.QueryRow(ctx, `SELECT slack_id, email, looked_up_at FROM slack_users WHERE person = ?`, person).Scan(&id, &email, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", time.Time{}, false, nil
	}
	return id, email, db.Time(ms), err == nil, err
}

func (s *Service) personOfSlackID(ctx context.Context, slackID string) ([]string, error) {
	rows, err := s.DB.Query(ctx, `SELECT person FROM slack_users WHERE slack_id = ?`, slackID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Service) storeSlackUser(ctx context.Context, person, email, id string, now time.Time) error {
	_, err := s.DB.Exec(ctx, `INSERT INTO slack_users (person, email, slack_id, looked_up_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (person) DO UPDATE SET email = excluded.email, slack_id = excluded.slack_id, looked_up_at = excluded.looked_up_at`,
		person, email, id, db.Millis(now))
	return err
}

// firstDelivery records an Events API event id; false when it was seen.
// Slack retries a delivery for about an hour, so ids older than a day are
// forgotten.
func (s *Service) firstDelivery(ctx context.Context, eventID string, now time.Time) (bool, error) {
	var first bool
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM slack_events WHERE at < ?`, db.Millis(now.Add(-24*time.Hour))); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `INSERT INTO slack_events (event_id, at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING`, eventID, db.Millis(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	return first, err
}

// reservePhone books one send to number for the delivery under the
// limits, in one transaction that holds the sends lock (a row lock on
// PostgreSQL, the single writer on SQLite), so replicas cannot both take
// the last place. It returns how long to wait for a place (0: booked), or
// errDailyCap.
func (s *Service) reservePhone(ctx context.Context, number, kind, delivery string, limits []Limit, dailyCap int, now time.Time) (time.Duration, error) {
	var wait time.Duration
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		wait = 0
		if _, err := tx.Exec(ctx, `UPDATE phone_locks SET touched_at = ? WHERE name = 'sends'`, db.Millis(now)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM phone_sends WHERE delivery = ?`, delivery).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil // a retry of a send already counted
		}
		// Sends older than every window (config allows at most 7 days)
		// count for nothing any more.
		if _, err := tx.Exec(ctx, `DELETE FROM phone_sends WHERE at < ?`, db.Millis(now.Add(-MaxLimitWindow-24*time.Hour))); err != nil {
			return err
		}
		if dailyCap > 0 {
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM phone_sends WHERE at > ?`, db.Millis(now.Add(-24*time.Hour))).Scan(&n); err != nil {
				return err
			}
			if n >= dailyCap {
				return fmt.Errorf("%w: %d SMS and calls in the last 24 hours", errDailyCap, n)
			}
		}
		for _, l := range limits {
			// The Count-th most recent send in the window frees its place
			// when it leaves the window.
			var at int64
			err := tx.QueryRow(ctx, `SELECT at FROM phone_sends WHERE number = ? AND kind = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`,
				number, kind, db.Millis(now.Add(-l.Per)), l.Count-1).Scan(&at)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			wait = max(wait, db.Time(at).Add(l.Per).Sub(now)+time.Millisecond)
		}
		if wait > 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO phone_sends (number, kind, delivery, at) VALUES (?, ?, ?, ?)`, number, kind, delivery, db.Millis(now))
		return err
	})
	return wait, err
}

// statuspage state of one incident.
type spState struct {
	PageIncidentID string
	SentThrough    int64
}

// leaseStatuspage takes the incident's Statuspage lease until until, so
// one job at a time talks to Statuspage for it; false when another holds it.
func (s *Service) leaseStatuspage(ctx context.Context, incident int64, now, until time.Time) (spState, bool, error) {
	var st spState
	ok := false
	err := s.DB.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO statuspage_incidents (incident_id) VALUES (?) ON CONFLICT (incident_id) DO NOTHING`, incident); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE statuspage_incidents SET busy_until = ? WHERE incident_id = ? AND busy_until <= ?`,
			db.Millis(until), incident, db.Millis(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		ok = true
		return tx.QueryRow(ctx, `SELECT page_incident_id, sent_through FROM statuspage_incidents WHERE incident_id = ?`, incident).
			Scan(&st.PageIncidentID, &st.SentThrough)
	})
	return st, ok, err
}

func (s *Service) saveStatuspage(ctx context.Context, incident int64, st spState) error {
	_, err := s.DB.Exec(ctx, `UPDATE statuspage_incidents SET page_incident_id = ?, sent_through = ? WHERE incident_id = ?`,
		st.PageIncidentID, st.SentThrough, incident)
	return err
}

func (s *Service) releaseStatuspage(ctx context.Context, incident int64) error {
	_, err := s.DB.Exec(ctx, `UPDATE statuspage_incidents SET busy_until = 0 WHERE incident_id = ?`, incident)
	return err
}

// MaxLimitWindow is the longest per-number limit window config accepts.
const MaxLimitWindow = 7 * 24 * time.Hour

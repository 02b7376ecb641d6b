package slo

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/internal/db"
)

// heldCondition is a burn-rate condition with an alertAfter that holds at
// an evaluation.
type heldCondition struct {
	key    string // BurnCondition.Key
	after  time.Duration
	reason string
}

// Holds are, per severity and condition key, since when a condition with
// an alertAfter holds.
type Holds map[string]map[string]time.Time

// applyHolds completes an evaluated alert of one severity from since (the
// time each of its held conditions started to hold; a condition missing
// from it starts now): a condition that has held for its alertAfter fires
// the alert, as Prometheus's for: does; otherwise the alert is pending
// since the earliest start.
func applyHolds(a *Alert, since map[string]time.Time, now time.Time) {
	if len(a.held) == 0 {
		return
	}
	var pending *time.Time
	for _, h := range a.held {
		t, ok := since[h.key]
		if !ok || t.After(now) {
			t = now
		}
		if now.Sub(t) >= h.after {
			if !a.Firing {
				a.Firing = true
				a.Reason = h.reason + " for " + FormatDuration(now.Sub(t).Truncate(time.Second))
			}
			continue
		}
		if pending == nil || t.Before(*pending) {
			t := t
			pending = &t
		}
	}
	a.PendingSince = pending
	if a.Firing {
		a.PendingSince = nil
	}
}

// heldNow returns the holds st's alerts say, starting each new one at now
// and keeping the start of one that held already.
func heldNow(st *Status, old map[string]map[string]time.Time, now time.Time) Holds {
	out := Holds{}
	for sev, a := range map[string]*Alert{"page": &st.Alerts.Page, "ticket": &st.Alerts.Ticket} {
		for _, h := range a.held {
			if out[sev] == nil {
				out[sev] = map[string]time.Time{}
			}
			t, ok := old[sev][h.key]
			if !ok || t.After(now) {
				t = now
			}
			out[sev][h.key] = t
		}
	}
	return out
}

// applyHolds completes st's alerts from the holds of its SLO.
func (st *Status) applyHolds(h Holds, now time.Time) {
	applyHolds(&st.Alerts.Page, h["page"], now)
	applyHolds(&st.Alerts.Ticket, h["ticket"], now)
}

// usesHolds reports whether any of def's conditions has an alertAfter.
func usesHolds(def *Definition) bool {
	for _, c := range append(append([]BurnCondition(nil), def.Alerting.Page...), def.Alerting.Ticket...) {
		if c.AlertAfter > 0 {
			return true
		}
	}
	return false
}

// equalHolds reports whether a and b hold the same conditions since the
// same times.
func equalHolds(a, b Holds) bool {
	count := func(h Holds) int {
		n := 0
		for _, m := range h {
			n += len(m)
		}
		return n
	}
	if count(a) != count(b) {
		return false
	}
	for sev, m := range a {
		for k, t := range m {
			if u, ok := b[sev][k]; !ok || !u.Equal(t) {
				return false
			}
		}
	}
	return true
}

// AllHolds reads the stored holds of every SLO, by SLO name.
func (s *Store) AllHolds(ctx context.Context) (map[string]Holds, error) {
	rows, err := s.db.Query(ctx, `SELECT slo, severity, cond, since_ms FROM slo_alert_holds`)
	if err != nil {
		return nil, fmt.Errorf("read alert holds: %w", err)
	}
	defer rows.Close()
	out := map[string]Holds{}
	for rows.Next() {
		var name, sev, cond string
		var ms int64
		if err := rows.Scan(&name, &sev, &cond, &ms); err != nil {
			return nil, err
		}
		if out[name] == nil {
			out[name] = Holds{}
		}
		if out[name][sev] == nil {
			out[name][sev] = map[string]time.Time{}
		}
		out[name][sev][cond] = db.Time(ms)
	}
	return out, rows.Err()
}

// Holds reads the stored holds of the SLO named slo.
func (s *Store) Holds(ctx context.Context, slo string) (Holds, error) {
	rows, err := s.db.Query(ctx, `SELECT severity, cond, since_ms FROM slo_alert_holds WHERE slo = ?`, slo)
	if err != nil {
		return nil, fmt.Errorf("read alert holds: %w", err)
	}
	defer rows.Close()
	out := Holds{}
	for rows.Next() {
		var sev, cond string
		var ms int64
		if err := rows.Scan(&sev, &cond, &ms); err != nil {
			return nil, err
		}
		if out[sev] == nil {
			out[sev] = map[string]time.Time{}
		}
		out[sev][cond] = db.Time(ms)
	}
	return out, rows.Err()
}

// SetHolds replaces the stored holds of the SLO named slo with h.
func (s *Store) SetHolds(ctx context.Context, slo string, h Holds) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM slo_alert_holds WHERE slo = ?`, slo); err != nil {
			return err
		}
		for sev, conds := range h {
			for cond, since := range conds {
				if _, err := tx.Exec(ctx, `INSERT INTO slo_alert_holds (slo, severity, cond, since_ms) VALUES (?, ?, ?, ?)`,
					slo, sev, cond, db.Millis(since)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
)

// Heartbeat is a dead man's switch: a job calls its URL every Interval;
// when a call is missed an incident opens on Service. Monitoring starts
// with the first call.
type Heartbeat struct {
	Name     string        `json:"name"`
	Service  string        `json:"service"`
	Interval time.Duration `json:"interval"`
	Severity string        `json:"severity"`
}

// HeartbeatStatus is a heartbeat with its last call.
type HeartbeatStatus struct {
	Heartbeat
	LastSeen *time.Time `json:"last_seen"`
	Overdue  bool       `json:"overdue"`
}

// Beat records a call of heartbeat h: it schedules the check for the next
// call and resolves the incident a missed call opened.
func (m *Manager) Beat(ctx context.Context, h Heartbeat) error {
	if h.Interval <= 0 {
		return tandem.FieldErrorf("interval", "heartbeat %s has no interval", h.Name)
	}
	now := m.clock.Now()
	err := m.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO heartbeats (name, service, interval_ms, last_seen, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET service = excluded.service, interval_ms = excluded.interval_ms, last_seen = excluded.last_seen`,
			h.Name, h.Service, h.Interval.Milliseconds(), db.Millis(now), db.Millis(now)); err != nil {
			return err
		}
		if _, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: jobHeartbeat, Key: fmt.Sprintf("heartbeat:%s:%d", h.Name, db.Millis(now)),
			Payload: map[string]any{"heartbeat": h, "seen": db.Millis(now)}, RunAt: now.Add(m.settings().scale(h.Interval))}); err != nil {
			return err
		}
		_, err := m.alertTx(ctx, tx, heartbeatGroup(h, AlertClosed, now), now, nil)
		return err
	})
	if err == nil {
		m.engine.Wake()
	}
	return err
}

func heartbeatGroup(h Heartbeat, status string, now time.Time) AlertGroup {
	return AlertGroup{Source: "heartbeat", GroupKey: h.Name, Service: h.Service, Severity: h.Severity,
		Title:   fmt.Sprintf("heartbeat %s missed: no call within %s", h.Name, h.Interval),
		Summary: "The job that calls this heartbeat did not call it in time; it may have stopped or be failing.",
		Labels:  map[string]string{"heartbeat": h.Name},
		Alerts:  []GroupAlert{{Fingerprint: "heartbeat:" + h.Name, Status: status, Labels: map[string]string{"alertname": "HeartbeatMissed", "heartbeat": h.Name}, StartsAt: now}}}
}

// runHeartbeatCheck opens an incident when no call came since the one that
// scheduled the check.
func (m *Manager) runHeartbeatCheck(ctx context.Context, tx *db.Tx, j engine.Job) error {
	var p struct {
		Heartbeat Heartbeat `json:"heartbeat"`
		Seen      int64     `json:"seen"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return engine.Permanent(err)
	}
	var last int64
	err := tx.QueryRow(ctx, `SELECT last_seen FROM heartbeats WHERE name = ?`, p.Heartbeat.Name).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) || last != p.Seen {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = m.alertTx(ctx, tx, heartbeatGroup(p.Heartbeat, Firing, j.RunAt), j.RunAt, nil)
	return err
}

// Heartbeats returns the state of the given heartbeats at now.
func (m *Manager) Heartbeats(ctx context.Context, hs []Heartbeat, now time.Time) ([]HeartbeatStatus, error) {
	out := []HeartbeatStatus{}
	for _, h := range hs {
		st := HeartbeatStatus{Heartbeat: h}
		var last int64
		err := m.db.QueryRow(ctx, `SELECT last_seen FROM heartbeats WHERE name = ?`, h.Name).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if last != 0 {
			st.LastSeen = optTime(last)
			st.Overdue = now.Sub(db.Time(last)) > m.settings().scale(h.Interval)
		}
		out = append(out, st)
	}
	return out, nil
}

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
// when no call comes within Interval plus Grace of the last one, an
// incident opens on Service. Monitoring starts with the first call.
type Heartbeat struct {
	Name     string        `json:"name"`
	Service  string        `json:"service"`
	Interval time.Duration `json:"interval"`
	// Grace is how late a call may come before it counts as missed, as in
	// healthchecks.io: a job that runs every Interval never calls exactly
	// Interval after its previous call, and without slack a run one second
	// late would open an incident the next call resolves. Zero means
	// DefaultGrace(Interval); NoGrace (any negative value) means none.
	Grace    time.Duration `json:"grace"`
	Severity string        `json:"severity"`
}

// NoGrace as a Heartbeat's Grace checks it exactly Interval after each
// call. Zero cannot say so: it asks for the default.
const NoGrace time.Duration = -1

// DefaultGrace is the grace of a heartbeat that sets none: a tenth of its
// interval, and at least a minute. A tenth scales with how long the job
// runs and how far its scheduler drifts; the minute covers a cron job's
// start-up, which does not shrink with a short interval.
func DefaultGrace(interval time.Duration) time.Duration {
	return max(interval/10, time.Minute)
}

// grace is the grace in effect.
func (h Heartbeat) grace() time.Duration {
	switch {
	case h.Grace < 0:
		return 0
	case h.Grace == 0:
		return DefaultGrace(h.Interval)
	}
	return h.Grace
}

// deadline is how long after a call the next one may come, with the
// settings' time scale applied to the interval and the grace alike.
func (m *Manager) deadline(h Heartbeat) time.Duration {
	return m.settings().scale(h.Interval + h.grace())
}

// HeartbeatStatus is a heartbeat with its last call. Its Grace is the one
// in effect (the default filled in, 0 for none).
type HeartbeatStatus struct {
	Heartbeat
	LastSeen *time.Time `json:"last_seen"`
	Overdue  bool       `json:"overdue"`
}

// Beat records a call of heartbeat h: it schedules the check for the next
// call, Interval plus Grace from now, and resolves the incident a missed
// call opened.
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
			Payload: heartbeatCheck{Heartbeat: h, Seen: db.Millis(now)}, RunAt: now.Add(m.deadline(h))}); err != nil {
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

// heartbeatCheck is the payload of a check job: the heartbeat as it was
// when called, and the call (Unix ms) the check looks for a successor of.
type heartbeatCheck struct {
	Heartbeat Heartbeat `json:"heartbeat"`
	Seen      int64     `json:"seen"`
}

func heartbeatGroup(h Heartbeat, status string, now time.Time) AlertGroup {
	within := h.Interval.String()
	if g := h.grace(); g > 0 {
		within += " + " + g.String() + " grace"
	}
	return AlertGroup{Source: "heartbeat", GroupKey: h.Name, Service: h.Service, Severity: h.Severity,
		Title:   fmt.Sprintf("heartbeat %s missed: no call within %s", h.Name, within),
		Summary: "The job that calls this heartbeat did not call it in time; it may have stopped or be failing.",
		Labels:  map[string]string{"heartbeat": h.Name},
		Alerts:  []GroupAlert{{Fingerprint: "heartbeat:" + h.Name, Status: status, Labels: map[string]string{"alertname": "HeartbeatMissed", "heartbeat": h.Name}, StartsAt: now}}}
}

// runHeartbeatCheck opens an incident when no call came since the one that
// scheduled the check.
func (m *Manager) runHeartbeatCheck(ctx context.Context, tx *db.Tx, j engine.Job) error {
	var p heartbeatCheck
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

// Heartbeats returns the state of the given heartbeats at now: a heartbeat
// is overdue once Interval plus Grace have passed since its last call.
func (m *Manager) Heartbeats(ctx context.Context, hs []Heartbeat, now time.Time) ([]HeartbeatStatus, error) {
	out := []HeartbeatStatus{}
	for _, h := range hs {
		st := HeartbeatStatus{Heartbeat: h}
		st.Grace = h.grace()
		var last int64
		err := m.db.QueryRow(ctx, `SELECT last_seen FROM heartbeats WHERE name = ?`, h.Name).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if last != 0 {
			st.LastSeen = optTime(last)
			st.Overdue = now.Sub(db.Time(last)) > m.deadline(h)
		}
		out = append(out, st)
	}
	return out, nil
}

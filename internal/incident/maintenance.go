package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
)

// Window is a maintenance window: alerts on Service between StartsAt and
// EndsAt are recorded but page nobody. EndedAt, when set, is when someone
// ended it before EndsAt (or cancelled it before StartsAt): it is over
// from then on.
type Window struct {
	ID        int64      `json:"id"`
	Service   string     `json:"service"`
	StartsAt  time.Time  `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at"`
	Reason    string     `json:"reason"`
	CreatedBy string     `json:"created_by,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	EndedBy   string     `json:"ended_by,omitempty"`
}

// End is when the window is over: EndedAt when it was ended early.
func (w Window) End() time.Time {
	if w.EndedAt != nil && w.EndedAt.Before(w.EndsAt) {
		return *w.EndedAt
	}
	return w.EndsAt
}

// windowEnd is Window.End in SQL.
const windowEnd = `(CASE WHEN ended_at > 0 AND ended_at < ends_at THEN ended_at ELSE ends_at END)`

const windowCols = `id, service, starts_at, ends_at, reason, created_by, ended_at, ended_by`

func scanWindow(row interface{ Scan(...any) error }) (Window, error) {
	var w Window
	var start, end, ended int64
	if err := row.Scan(&w.ID, &w.Service, &start, &end, &w.Reason, &w.CreatedBy, &ended, &w.EndedBy); err != nil {
		return w, err
	}
	w.StartsAt, w.EndsAt = db.Time(start), db.Time(end)
	if ended != 0 {
		t := db.Time(ended)
		w.EndedAt = &t
	}
	return w, nil
}

func activeWindow(ctx context.Context, tx *db.Tx, services []string, at time.Time) (Window, bool, error) {
	for _, s := range services {
		w, err := scanWindow(tx.QueryRow(ctx, `SELECT `+windowCols+` FROM maintenance_windows
			WHERE service = ? AND starts_at <= ? AND `+windowEnd+` > ? ORDER BY ends_at DESC LIMIT 1`, s, db.Millis(at), db.Millis(at)))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return w, false, err
		}
		return w, true, nil
	}
	return Window{}, false, nil
}

// AddWindow records a maintenance window (from config or the API) and
// schedules the log entry for its end. A window from config is identified
// by service and times, so reloading the config does not add it twice.
func (m *Manager) AddWindow(ctx context.Context, w Window) (Window, error) {
	w.Service = strings.TrimSpace(w.Service)
	w.Reason = strings.TrimSpace(w.Reason)
	switch {
	case w.Service == "":
		return w, tandem.FieldErrorf("service", "service is required")
	case w.StartsAt.IsZero():
		return w, tandem.FieldErrorf("starts_at", "start is required")
	case !w.EndsAt.After(w.StartsAt):
		return w, tandem.FieldErrorf("ends_at", "end must be after start")
	case w.Reason == "":
		return w, tandem.FieldErrorf("reason", "reason is required")
	}
	now := m.clock.Now()
	err := m.db.InTx(ctx, func(tx *db.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM maintenance_windows WHERE service = ? AND starts_at = ? AND ends_at = ?`,
			w.Service, db.Millis(w.StartsAt), db.Millis(w.EndsAt)).Scan(&id)
		if err == nil {
			w.ID = id
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO maintenance_windows (service, starts_at, ends_at, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			w.Service, db.Millis(w.StartsAt), db.Millis(w.EndsAt), w.Reason, w.CreatedBy, db.Millis(now)).Scan(&w.ID); err != nil {
			return err
		}
		_, err = engine.Enqueue(ctx, tx, engine.NewJob{Kind: jobMaintenanceEnd, Key: fmt.Sprintf("maintenance:%d:end", w.ID),
			Payload: endPayload{Window: w.ID}, RunAt: w.EndsAt})
		return err
	})
	if err != nil {
		return w, err
	}
	w.StartsAt, w.EndsAt = w.StartsAt.UTC(), w.EndsAt.UTC()
	return w, nil
}

// Windows lists maintenance windows not over by since, soonest first.
func (m *Manager) Windows(ctx context.Context, since time.Time) ([]Window, error) {
	rows, err := m.db.Query(ctx, `SELECT `+windowCols+` FROM maintenance_windows WHERE `+windowEnd+` > ? ORDER BY starts_at, id`, db.Millis(since))
	if err != nil {
		return nil, fmt.Errorf("list maintenance windows: %w", err)
	}
	defer rows.Close()
	out := []Window{}
	for rows.Next() {
		w, err := scanWindow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// EndWindow ends window id now, before its planned end: alerts from now on
// page again, and the end is logged on the timelines of the incidents
// opened during it. A window that has not started yet is cancelled. A
// window already over is a conflict.
func (m *Manager) EndWindow(ctx context.Context, id int64, actor string) (Window, error) {
	now := m.clock.Now()
	var w Window
	err := m.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		w, err = scanWindow(tx.QueryRow(ctx, `SELECT `+windowCols+` FROM maintenance_windows WHERE id = ?`+forUpdate(tx), id))
		if errors.Is(err, sql.ErrNoRows) {
			return tandem.Errorf(tandem.ENotFound, "no maintenance window #%d", id)
		}
		if err != nil {
			return err
		}
		if !w.End().After(now) {
			return tandem.Errorf(tandem.EConflict, "maintenance window #%d on %s is already over (since %s)", w.ID, w.Service, w.End().UTC().Format(time.RFC3339))
		}
		if _, err := tx.Exec(ctx, `UPDATE maintenance_windows SET ended_at = ?, ended_by = ? WHERE id = ?`, db.Millis(now), actor, id); err != nil {
			return err
		}
		ended := db.Time(db.Millis(now)) // as stored
		w.EndedAt, w.EndedBy = &ended, actor
		if w.StartsAt.After(now) {
			return nil // cancelled before it started: nothing to log
		}
		_, err = engine.Enqueue(ctx, tx, engine.NewJob{Kind: jobMaintenanceEnd, Key: fmt.Sprintf("maintenance:%d:ended-early", w.ID),
			Payload: endPayload{Window: w.ID, Early: true}, RunAt: now})
		return err
	})
	if err != nil {
		return Window{}, err
	}
	m.engine.Wake()
	w.StartsAt, w.EndsAt = w.StartsAt.UTC(), w.EndsAt.UTC()
	return w, nil
}

// endPayload is a maintenance-end job: the planned end of Window, or (Early)
// the end someone brought forward.
type endPayload struct {
	Window int64 `json:"window"`
	Early  bool  `json:"early,omitempty"`
}

// heldBy is the data of the timeline entries that say window held an
// incident's paging back (opened during it, or escalation stopped by it):
// the window's end resumes exactly those incidents.
func heldBy(window int64) map[string]any { return map[string]any{"window": window, "held": true} }

// runMaintenanceEnd logs a window's end: in the server log and on the
// timeline of every incident on its service opened during the window; and
// it resumes the escalation of the incidents the window held back.
func (m *Manager) runMaintenanceEnd(ctx context.Context, tx *db.Tx, j engine.Job) error {
	var p endPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return engine.Permanent(err)
	}
	w, err := scanWindow(tx.QueryRow(ctx, `SELECT `+windowCols+` FROM maintenance_windows WHERE id = ?`, p.Window))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	end := w.End()
	if !p.Early && w.EndedAt != nil && w.EndedAt.Before(w.EndsAt) {
		// The planned end of a window ended early (or cancelled): the job
		// EndWindow enqueued logs the end, if the window had begun. The
		// job's own run time says nothing: a retry moves it.
		return nil
	}
	msg := fmt.Sprintf("maintenance window #%d on %s ended (%s)", w.ID, w.Service, w.Reason)
	if w.EndedAt != nil {
		msg = fmt.Sprintf("maintenance window #%d on %s ended early by %s (%s)", w.ID, w.Service, w.EndedBy, w.Reason)
	}
	m.log.Info("maintenance window ended", "window", w.ID, "service", w.Service, "reason", w.Reason, "ended_by", w.EndedBy)
	rows, err := tx.Query(ctx, `SELECT id, services FROM incidents WHERE detected_at >= ? AND detected_at < ?`, db.Millis(w.StartsAt), db.Millis(end))
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		var svcs string
		if err := rows.Scan(&id, &svcs); err != nil {
			rows.Close()
			return err
		}
		var list []string
		_ = json.Unmarshal([]byte(svcs), &list)
		for _, sv := range list {
			if sv == w.Service {
				ids = append(ids, id)
				break
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := m.addEvent(ctx, tx, id, end, EvMaintenance, w.EndedBy, msg, map[string]any{"window": w.ID}); err != nil {
			return err
		}
	}
	// Resume from now when the job runs late (a retry): an escalation
	// planned from the past would fire its overdue rules in a burst, and
	// another window that ended meanwhile must not count as active.
	at := end
	if now := m.clock.Now(); now.After(at) {
		at = now
	}
	return m.resumeAfterMaintenance(ctx, tx, w, at)
}

// resumeAfterMaintenance escalates, from rule 0, every incident the window
// held back (its timeline says so: opened during the window and paged
// nobody, or its escalation stopped by it) that is still triggered when
// the window ends and has no escalation scheduled. An alert still firing
// after the work is over is a real one, and Alertmanager's repeats of it
// change nothing that would page. Acknowledged incidents are left to their
// owner; an incident the window never held is not paged again.
func (m *Manager) resumeAfterMaintenance(ctx context.Context, tx *db.Tx, w Window, at time.Time) error {
	rows, err := tx.Query(ctx, `SELECT id FROM incidents WHERE status = ? AND EXISTS (
		SELECT 1 FROM incident_events e WHERE e.incident_id = incidents.id AND e.kind = ? AND e.data = ?)`,
		Triggered, EvMaintenance, jsonText(heldBy(w.ID)))
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		inc, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if inc.Status != Triggered || inc.Policy == "" {
			continue
		}
		pending, err := engine.Pending(ctx, tx, jobEscalate, stepPrefix(inc.ID, inc.generation))
		if err != nil {
			return err
		}
		if pending {
			continue // its escalation goes on by itself
		}
		inc.generation++
		if _, err := tx.Exec(ctx, `UPDATE incidents SET generation = ?, triggered_at = ?, updated_at = ? WHERE id = ?`,
			inc.generation, db.Millis(at), db.Millis(at), inc.ID); err != nil {
			return err
		}
		if err := m.addEvent(ctx, tx, inc.ID, at, EvEscalation, "",
			fmt.Sprintf("maintenance window #%d on %s is over and the incident is still triggered: escalating", w.ID, w.Service), map[string]any{"window": w.ID}); err != nil {
			return err
		}
		if err := m.startEscalation(ctx, tx, inc, at, nil); err != nil {
			return err
		}
	}
	return nil
}

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
// EndsAt are recorded but page nobody.
type Window struct {
	ID        int64     `json:"id"`
	Service   string    `json:"service"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by,omitempty"`
}

func activeWindow(ctx context.Context, tx *db.Tx, services []string, at time.Time) (Window, bool, error) {
	for _, s := range services {
		var w Window
		var start, end int64
		err := tx.QueryRow(ctx, `SELECT id, service, starts_at, ends_at, reason FROM maintenance_windows
			WHERE service = ? AND starts_at <= ? AND ends_at > ? ORDER BY ends_at DESC LIMIT 1`, s, db.Millis(at), db.Millis(at)).
			Scan(&w.ID, &w.Service, &start, &end, &w.Reason)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return w, false, err
		}
		w.StartsAt, w.EndsAt = db.Time(start), db.Time(end)
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
			Payload: map[string]any{"window": w.ID}, RunAt: w.EndsAt})
		return err
	})
	if err != nil {
		return w, err
	}
	w.StartsAt, w.EndsAt = w.StartsAt.UTC(), w.EndsAt.UTC()
	return w, nil
}

// Windows lists maintenance windows ending after since, soonest first.
func (m *Manager) Windows(ctx context.Context, since time.Time) ([]Window, error) {
	rows, err := m.db.Query(ctx, `SELECT id, service, starts_at, ends_at, reason, created_by FROM maintenance_windows WHERE ends_at > ? ORDER BY starts_at, id`, db.Millis(since))
	if err != nil {
		return nil, fmt.Errorf("list maintenance windows: %w", err)
	}
	defer rows.Close()
	out := []Window{}
	for rows.Next() {
		var w Window
		var s, e int64
		if err := rows.Scan(&w.ID, &w.Service, &s, &e, &w.Reason, &w.CreatedBy); err != nil {
			return nil, err
		}
		w.StartsAt, w.EndsAt = db.Time(s), db.Time(e)
		out = append(out, w)
	}
	return out, rows.Err()
}

// runMaintenanceEnd logs a window's end: in the server log and on the
// timeline of every incident on its service opened during the window.
func (m *Manager) runMaintenanceEnd(ctx context.Context, tx *db.Tx, j engine.Job) error {
	var p struct {
		Window int64 `json:"window"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return engine.Permanent(err)
	}
	var w Window
	var s, e int64
	err := tx.QueryRow(ctx, `SELECT id, service, starts_at, ends_at, reason FROM maintenance_windows WHERE id = ?`, p.Window).Scan(&w.ID, &w.Service, &s, &e, &w.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	w.StartsAt, w.EndsAt = db.Time(s), db.Time(e)
	m.log.Info("maintenance window ended", "window", w.ID, "service", w.Service, "reason", w.Reason)
	rows, err := tx.Query(ctx, `SELECT id, services FROM incidents WHERE detected_at >= ? AND detected_at < ?`, s, e)
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
	for _, id := range ids {
		if err := addEvent(ctx, tx, id, w.EndsAt, EvMaintenance, "", fmt.Sprintf("maintenance window #%d on %s ended (%s)", w.ID, w.Service, w.Reason),
			map[string]any{"window": w.ID}); err != nil {
			return err
		}
	}
	return nil
}

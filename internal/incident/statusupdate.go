package incident

import (
	"context"
	"slices"
	"strings"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

// EvStatusUpdate is a status update for the people outside the response:
// the incident channel, the status page.
const EvStatusUpdate = "status_update"

// UpdateStatuses are the stages a status update announces, Atlassian
// Statuspage's incident statuses.
var UpdateStatuses = []string{"investigating", "identified", "monitoring", "resolved"}

// StatusUpdate is one status update as the timeline holds it.
type StatusUpdate struct {
	EventID int64  `json:"event_id"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// StatusUpdateOf reads a status update from its timeline entry.
func StatusUpdateOf(e Event) (StatusUpdate, bool) {
	if e.Kind != EvStatusUpdate {
		return StatusUpdate{}, false
	}
	st, _ := e.Data["status"].(string)
	msg, _ := e.Data["message"].(string)
	return StatusUpdate{EventID: e.ID, Status: st, Message: msg}, st != ""
}

// PostUpdate records a status update on the incident's timeline; every
// channel that follows updates (the incident channel, a status page) gets
// it through the event hooks. A "resolved" update resolves an incident
// that is not resolved yet, in the same transaction.
func (m *Manager) PostUpdate(ctx context.Context, id int64, actor, status, message string) (Event, error) {
	status = strings.ToLower(strings.TrimSpace(status))
	if !slices.Contains(UpdateStatuses, status) {
		return Event{}, tandem.FieldErrorf("status", "want investigating, identified, monitoring or resolved; got %q", status)
	}
	message = strings.TrimSpace(message)
	if message == "" {
		return Event{}, tandem.FieldErrorf("message", "an update needs a message")
	}
	if len(message) > 5000 {
		return Event{}, tandem.FieldErrorf("message", "message is longer than 5000 characters")
	}
	now := m.clock.Now()
	var ev Event
	err := m.db.InTx(ctx, func(tx *db.Tx) error {
		inc, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if inc.Status == Closed {
			return tandem.Errorf(tandem.EConflict, "incident #%d is closed", id)
		}
		data := map[string]any{"status": status, "message": message}
		if err := m.addEvent(ctx, tx, id, now, EvStatusUpdate, actor, status+": "+message, data); err != nil {
			return err
		}
		ev = Event{IncidentID: id, At: now.UTC(), Kind: EvStatusUpdate, Actor: actor, Message: status + ": " + message, Data: data}
		if status == "resolved" && inc.Status != Resolved {
			return m.transitionTx(ctx, tx, inc, actor, Resolved, "status update", now)
		}
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	m.engine.Wake()
	return ev, nil
}

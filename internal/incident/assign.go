package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/oncall"
)

// Assignment names who an incident is reassigned to: a person or an
// escalation policy, exactly one.
type Assignment struct {
	Person string `json:"person,omitempty"`
	Policy string `json:"policy,omitempty"`
}

func unknown(field, format string, args ...any) error {
	return &tandem.Error{Code: tandem.EUnprocessable, Field: field, Message: fmt.Sprintf(format, args...)}
}

// knownPerson reports whether the directory knows person: a catalog person
// or someone with contact methods in the on-call config.
func knownPerson(dir *oncall.Directory, person string) bool {
	if c := dir.Catalog(); c != nil {
		if _, ok := c.Person(person); ok {
			return true
		}
	}
	return len(dir.ContactMethods(person)) > 0
}

// directory returns the on-call directory at now, or a conflict when the
// manager has none (nobody could be paged).
func (m *Manager) directory(ctx context.Context, now time.Time) (*oncall.Directory, error) {
	if m.Directories == nil {
		return nil, tandem.Errorf(tandem.EConflict, "no on-call directory: nobody can be paged")
	}
	dir, err := m.Directories.DirectoryAt(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("on-call directory: %w", err)
	}
	return dir, nil
}

// Reassign assigns the incident to a person or an escalation policy
// instead of its current assignment, as PagerDuty's "reassign" does: the
// pending steps and pages of the old assignment stop (a new trigger
// generation starts), an acknowledged incident becomes triggered again,
// and the new assignee is paged now — a person by their notification
// rules, a policy from its first rule. An unknown person or policy is
// unprocessable and changes nothing; a resolved or closed incident is a
// conflict.
func (m *Manager) Reassign(ctx context.Context, id int64, actor string, to Assignment) (Incident, error) {
	to.Person, to.Policy = strings.TrimSpace(to.Person), strings.TrimSpace(to.Policy)
	if (to.Person == "") == (to.Policy == "") {
		return Incident{}, tandem.FieldErrorf("to", "reassign to one person or one escalation policy")
	}
	now := m.clock.Now()
	dir, err := m.directory(ctx, now)
	if err != nil {
		return Incident{}, err
	}
	if to.Person != "" && !knownPerson(dir, to.Person) {
		return Incident{}, unknown("person", "no person %q in the catalog", to.Person)
	}
	if to.Policy != "" {
		if _, ok := dir.Policy(to.Policy); !ok {
			return Incident{}, unknown("policy", "no escalation policy %q", to.Policy)
		}
	}
	err = m.db.InTx(ctx, func(tx *db.Tx) error {
		inc, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if inc.Status != Triggered && inc.Status != Acknowledged {
			return tandem.Errorf(tandem.EConflict, "incident #%d is %s: it cannot be reassigned", id, inc.Status)
		}
		from := inc.Policy
		if inc.Assignee != "" {
			from = inc.Assignee
		}
		if from == "" {
			from = "nobody"
		}
		target := to.Person
		if to.Policy != "" {
			target = to.Policy
			inc.Policy, inc.Assignee = to.Policy, ""
		} else {
			inc.Assignee = to.Person
		}
		inc.generation++
		ms := db.Millis(now)
		if _, err := tx.Exec(ctx, `UPDATE incidents SET status = ?, policy = ?, assignee = ?, generation = ?, triggered_at = ?, acknowledged_at = 0, updated_at = ? WHERE id = ?`,
			Triggered, inc.Policy, inc.Assignee, inc.generation, ms, ms, id); err != nil {
			return err
		}
		msg := fmt.Sprintf("reassigned from %s to %s", from, target)
		if actor != "" {
			msg += " by " + actor
		}
		if inc.Status == Acknowledged {
			msg = "acknowledged → triggered: " + msg
		}
		if err := m.addEvent(ctx, tx, id, now, EvReassign, actor, msg,
			map[string]any{"from": from, "person": to.Person, "policy": to.Policy, "status_from": inc.Status}); err != nil {
			return err
		}
		inc.Status = Triggered
		if to.Person != "" {
			return m.pageAssignee(ctx, tx, dir, inc, now)
		}
		return m.startEscalation(ctx, tx, inc, now, dir)
	})
	if err != nil {
		return Incident{}, err
	}
	m.engine.Wake()
	return m.Get(ctx, id)
}

// pageAssignee pages the person an incident is assigned to, by their
// notification rules, in the current trigger generation: the same page
// jobs an escalation step enqueues, so acknowledging, resolving or
// reassigning again stops them.
func (m *Manager) pageAssignee(ctx context.Context, tx *db.Tx, dir *oncall.Directory, inc Incident, now time.Time) error {
	if w, ok, err := activeWindow(ctx, tx, inc.Services, now); err != nil {
		return err
	} else if ok {
		return m.addEvent(ctx, tx, inc.ID, now, EvMaintenance,
			"", fmt.Sprintf("%s is in maintenance window #%d until %s (%s): nobody paged", w.Service, w.ID, w.End().UTC().Format(time.RFC3339), w.Reason),
			heldBy(w.ID))
	}
	if err := m.addEvent(ctx, tx, inc.ID, now, EvEscalation, "", "assigned to "+inc.Assignee+": paging "+inc.Assignee,
		map[string]any{"people": []string{inc.Assignee}, "assignee": inc.Assignee}); err != nil {
		return err
	}
	prefix := fmt.Sprintf("incident:%d:g%d:assign:%s", inc.ID, inc.generation, inc.Assignee)
	return m.enqueuePages(ctx, tx, dir, inc, inc.Assignee, prefix, false, now)
}

// enqueuePages enqueues one page job per notification of person, keyed
// under prefix, or records that the person has no contact method.
func (m *Manager) enqueuePages(ctx context.Context, tx *db.Tx, dir *oncall.Directory, inc Incident, person, prefix string, responder bool, now time.Time) error {
	ns := dir.Notifications(person, now)
	if len(ns) == 0 {
		return m.addEvent(ctx, tx, inc.ID, now, EvPageFailed, "", person+" has no contact method for their notification rules", nil)
	}
	set := m.settings()
	for _, n := range ns {
		if _, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: jobPage, Key: prefix + ":" + n.Method.Name,
			RunAt: now.Add(set.scale(n.At.Sub(now))), MaxAttempts: 8,
			Payload: pagePayload{Incident: inc.ID, Generation: inc.generation, Person: person, Method: n.Method, Responder: responder}}); err != nil {
			return err
		}
	}
	return nil
}

// AddResponders asks people to join the incident without changing who it
// is assigned to, as PagerDuty's responder requests do: each new responder
// is recorded, put on the timeline and paged now by their notification
// rules; a person already asked is not paged again. Responder pages go out
// while the incident is triggered or acknowledged. An unknown person is
// unprocessable and changes nothing; a resolved or closed incident is a
// conflict.
func (m *Manager) AddResponders(ctx context.Context, id int64, actor string, people []string) (Incident, error) {
	people = dedupe(people)
	if len(people) == 0 {
		return Incident{}, tandem.FieldErrorf("people", "name at least one person")
	}
	now := m.clock.Now()
	dir, err := m.directory(ctx, now)
	if err != nil {
		return Incident{}, err
	}
	for _, p := range people {
		if !knownPerson(dir, p) {
			return Incident{}, unknown("people", "no person %q in the catalog", p)
		}
	}
	err = m.db.InTx(ctx, func(tx *db.Tx) error {
		inc, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if inc.Status != Triggered && inc.Status != Acknowledged {
			return tandem.Errorf(tandem.EConflict, "incident #%d is %s: nobody can be added", id, inc.Status)
		}
		for _, p := range people {
			res, err := tx.Exec(ctx, `INSERT INTO incident_responders (incident_id, person, requested_by, requested_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (incident_id, person) DO NOTHING`, id, p, actor, db.Millis(now))
			if err != nil {
				return fmt.Errorf("add responder: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			by := ""
			if actor != "" {
				by = " by " + actor
			}
			if n == 0 {
				if err := m.addEvent(ctx, tx, id, now, EvResponder, actor, p+" was already asked to respond: not paged again",
					map[string]any{"person": p, "again": true}); err != nil {
					return err
				}
				continue
			}
			if err := m.addEvent(ctx, tx, id, now, EvResponder, actor, fmt.Sprintf("%s asked to respond%s: paging %s", p, by, p),
				map[string]any{"person": p, "people": []string{p}}); err != nil {
				return err
			}
			prefix := fmt.Sprintf("incident:%d:responder:%s", id, p)
			if err := m.enqueuePages(ctx, tx, dir, inc, p, prefix, true, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Incident{}, err
	}
	m.engine.Wake()
	return m.Get(ctx, id)
}

// responders returns the incident's responders in the order they were
// asked.
func (m *Manager) responders(ctx context.Context, id int64) ([]Responder, error) {
	rows, err := m.db.Query(ctx, `SELECT person, requested_by, requested_at FROM incident_responders WHERE incident_id = ? ORDER BY requested_at, person`, id)
	if err != nil {
		return nil, fmt.Errorf("incident responders: %w", err)
	}
	defer rows.Close()
	var out []Responder
	for rows.Next() {
		var r Responder
		var at int64
		if err := rows.Scan(&r.Person, &r.RequestedBy, &at); err != nil {
			return nil, err
		}
		r.RequestedAt = db.Time(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

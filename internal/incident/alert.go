package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

// Alert statuses.
const (
	Firing      = "firing"
	AlertClosed = "resolved"
)

// Mapping turns alert labels into an incident's service and severity.
type Mapping struct {
	// ServiceLabel names the label holding the service (default "service").
	ServiceLabel string
	// SeverityLabel names the label holding the severity (default
	// "severity").
	SeverityLabel string
	// Severities maps label values to sev1..sev4, or to NoIncident; values
	// sev1..sev4 (and 1..4) map to themselves. Default: page→sev2,
	// critical→sev1. The value ticket maps to NoIncident unless Severities
	// names it.
	Severities map[string]string
	// DefaultSeverity is used for a missing or unmapped value (default sev3).
	DefaultSeverity string
	// DefaultService is used when the label is missing ("" rejects such
	// alerts' groups as invalid).
	DefaultService string
}

// DefaultMapping is the mapping when none is configured.
func DefaultMapping() Mapping {
	return Mapping{ServiceLabel: "service", SeverityLabel: "severity",
		Severities: map[string]string{"page": "sev2", "critical": "sev1"}, DefaultSeverity: "sev3"}
}

// NoIncident is the severity of an alert that opens no incident and pages
// nobody: by default the value "ticket" (the ticket alerts of SLO burn
// rates, from tandem's evaluator or its rules), or any value that
// alert_mapping.severities maps to "none". An incident that is already
// open still takes such an alert's updates.
const NoIncident = "none"

// Service returns the service the labels name.
func (mp Mapping) Service(labels map[string]string) string {
	l := mp.ServiceLabel
	if l == "" {
		l = "service"
	}
	if v := strings.TrimSpace(labels[l]); v != "" {
		return v
	}
	return mp.DefaultService
}

// Severity returns the severity the labels say.
func (mp Mapping) Severity(labels map[string]string) string {
	l := mp.SeverityLabel
	if l == "" {
		l = "severity"
	}
	v := strings.ToLower(strings.TrimSpace(labels[l]))
	if s, ok := mp.Severities[v]; ok {
		return s
	}
	if v == "ticket" {
		return NoIncident
	}
	if s, ok := ParseSeverity(v); ok && v != "" {
		return s
	}
	if mp.DefaultSeverity != "" {
		return mp.DefaultSeverity
	}
	return "sev3"
}

// AlertInput is one alert from another capability or an inbound webhook.
// Source and GroupKey identify the incident (alerts of one group share it);
// Fingerprint identifies the alert within it.
type AlertInput struct {
	Source      string            `json:"source"`
	GroupKey    string            `json:"group_key"`
	Fingerprint string            `json:"fingerprint"`
	Service     string            `json:"service"`
	Severity    string            `json:"severity"`
	Title       string            `json:"title"`
	Summary     string            `json:"summary"`
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	StartsAt    time.Time         `json:"starts_at"`
	Links       map[string]string `json:"links,omitempty"`
}

// AlertGroup is a batch of alerts sharing one group key (an Alertmanager
// notification). Service, Severity and Title describe the incident the
// group opens.
type AlertGroup struct {
	Source   string
	GroupKey string
	Service  string
	Severity string
	Title    string
	Summary  string
	Labels   map[string]string
	Links    map[string]string
	Alerts   []GroupAlert
	// AutoResolve overrides Settings.AutoResolve for this group when set.
	AutoResolve *bool
	// Mirror makes a change of the group's title or severity set the open
	// incident's (a GitHub issue is the incident's record: an edited title
	// or a relabel carries over). Without it a change of the group's
	// severity only raises the incident's (an alert group going from
	// warning to critical), never lowers it or renames the incident. Only
	// a change of the group counts: a repeat never undoes what a person
	// set by hand.
	Mirror bool
}

// GroupAlert is one alert of a group.
type GroupAlert struct {
	Fingerprint string
	Status      string // firing | resolved
	Labels      map[string]string
	StartsAt    time.Time
	EndsAt      time.Time
}

// Alert records one alert: the first firing alert of a group opens an
// incident (and pages), later ones update it, and when every alert of the
// group is resolved the incident is resolved (Settings.AutoResolve). A
// resolved alert for a group with no open incident opens nothing and
// returns the group's latest incident unchanged (the zero Incident when the
// group never opened one).
func (m *Manager) Alert(ctx context.Context, in AlertInput) (Incident, error) {
	g := AlertGroup{Source: in.Source, GroupKey: in.GroupKey, Service: in.Service, Severity: in.Severity,
		Title: in.Title, Summary: in.Summary, Labels: in.Labels, Links: in.Links,
		Alerts: []GroupAlert{{Fingerprint: in.Fingerprint, Status: in.Status, Labels: in.Labels, StartsAt: in.StartsAt}}}
	if g.GroupKey == "" {
		g.GroupKey = in.Fingerprint
	}
	return m.AlertGroup(ctx, g)
}

func (g *AlertGroup) validate() error {
	if g.Source == "" {
		return tandem.FieldErrorf("source", "source is required")
	}
	if g.GroupKey == "" {
		return tandem.FieldErrorf("group_key", "group key (or fingerprint) is required")
	}
	if len(g.GroupKey) > 2000 {
		return tandem.FieldErrorf("group_key", "group key is longer than 2000 characters")
	}
	if len(g.Alerts) == 0 {
		return tandem.FieldErrorf("alerts", "at least one alert is required")
	}
	for i := range g.Alerts {
		a := &g.Alerts[i]
		if a.Fingerprint == "" {
			return tandem.FieldErrorf(fmt.Sprintf("alerts[%d].fingerprint", i), "fingerprint is required")
		}
		switch a.Status {
		case "":
			a.Status = Firing
		case Firing, AlertClosed:
		default:
			return tandem.FieldErrorf(fmt.Sprintf("alerts[%d].status", i), "want firing or resolved; got %q", a.Status)
		}
	}
	return nil
}

// AlertGroup records a batch of alerts of one group in one transaction
// (see Alert).
func (m *Manager) AlertGroup(ctx context.Context, g AlertGroup) (Incident, error) {
	if err := g.validate(); err != nil {
		return Incident{}, err
	}
	// The common case under at-least-once senders is a repeat: answer it
	// from a read, without taking the write lock.
	if id, ok, err := m.unchanged(ctx, g); err != nil {
		return Incident{}, err
	} else if ok {
		return m.Get(ctx, id)
	}
	now := m.clock.Now()
	// A group without an open incident may open one: read what opening
	// needs before the transaction (see openPlan).
	var plan *openPlan
	var open int
	if err := m.db.QueryRow(ctx, `SELECT COUNT(*) FROM incidents WHERE dedup_key = ?`, g.Source+":"+g.GroupKey).Scan(&open); err != nil {
		return Incident{}, err
	}
	if open == 0 {
		var err error
		if plan, err = m.prepareOpen(ctx, []string{g.Service}, EnvironmentOf(g.Labels), earliest(g.Alerts, now), false, now); err != nil {
			return Incident{}, err
		}
	}
	var id int64
	var err error
	for try := 0; try < 3; try++ {
		err = m.db.InTx(ctx, func(tx *db.Tx) error {
			var err error
			id, err = m.alertTx(ctx, tx, g, now, plan)
			return err
		})
		// Two replicas opening the same group at once: one insert wins the
		// unique dedup key, the other retries and updates it.
		if err == nil || !db.IsUniqueViolation(err) {
			break
		}
	}
	if err != nil {
		return Incident{}, err
	}
	if id == 0 {
		return Incident{}, nil
	}
	m.engine.Wake()
	return m.Get(ctx, id)
}

// unchanged reports whether g would change nothing: its group has an open
// incident, every alert is already recorded with the same status, and the
// group would not change the incident's title or severity.
func (m *Manager) unchanged(ctx context.Context, g AlertGroup) (int64, bool, error) {
	var id int64
	var st groupState
	err := m.db.QueryRow(ctx, `SELECT id, title, severity, group_title, group_severity FROM incidents WHERE dedup_key = ?`, g.Source+":"+g.GroupKey).
		Scan(&id, &st.title, &st.sev, &st.groupTitle, &st.groupSev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if g.update(st) != st {
		return 0, false, nil
	}
	for _, a := range g.Alerts {
		var st string
		err := m.db.QueryRow(ctx, `SELECT status FROM incident_alerts WHERE incident_id = ? AND fingerprint = ?`, id, a.Fingerprint).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && st != a.Status) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
	}
	return id, true, nil
}

func (m *Manager) alertTx(ctx context.Context, tx *db.Tx, g AlertGroup, now time.Time, plan *openPlan) (int64, error) {
	dedup := g.Source + ":" + g.GroupKey
	var id int64
	var status string
	err := tx.QueryRow(ctx, `SELECT id, status FROM incidents WHERE dedup_key = ?`+forUpdate(tx), dedup).Scan(&id, &status)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	opened := id == 0
	if id == 0 {
		firing := false
		for _, a := range g.Alerts {
			firing = firing || a.Status == Firing
		}
		if !firing {
			// Resolved alerts for a group with no open incident (a repeat
			// of the notification that resolved it): nothing to change;
			// answer with the group's latest incident, if any.
			var last int64
			err := tx.QueryRow(ctx, `SELECT id FROM incidents WHERE group_ref = ? ORDER BY id DESC LIMIT 1`, dedup).Scan(&last)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, err
			}
			return last, nil
		}
		in := OpenInput{Title: g.Title, Services: []string{g.Service}, Severity: g.Severity, Summary: g.Summary,
			Labels: g.Labels, Links: g.Links, Source: g.Source, Actor: g.Source}
		if in.Severity == "" {
			in.Severity = m.settings().Mapping.Severity(g.Labels)
		}
		if in.Severity == NoIncident {
			return 0, nil // a ticket: nothing to open, nobody to page
		}
		if in.Title == "" {
			in.Title = "alert on " + g.Service
		}
		in.Title = clipTitle(in.Title)
		in.StartedAt = earliest(g.Alerts, now)
		if err := in.validate(now); err != nil {
			return 0, err
		}
		in.group = g.update(groupState{title: in.Title, sev: in.Severity})
		if id, err = m.openTx(ctx, tx, in, dedup, now, plan); err != nil {
			return 0, err
		}
		status = Triggered
	}
	if !opened && (status == Triggered || status == Acknowledged) {
		if err := m.updateFromGroup(ctx, tx, id, g, now); err != nil {
			return 0, err
		}
	}
	changed, err := m.recordAlerts(ctx, tx, id, g, now)
	if err != nil {
		return 0, err
	}
	auto := m.settings().AutoResolve
	if g.AutoResolve != nil {
		auto = *g.AutoResolve
	}
	if changed && auto && (status == Triggered || status == Acknowledged) {
		var open int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM incident_alerts WHERE incident_id = ? AND status = ?`, id, Firing).Scan(&open); err != nil {
			return 0, err
		}
		if open == 0 {
			inc, err := getTx(ctx, tx, id)
			if err != nil {
				return 0, err
			}
			if err := m.transitionTx(ctx, tx, inc, g.Source, Resolved, "all alerts resolved", now); err != nil {
				return 0, err
			}
		}
	}
	return id, nil
}

// update returns the title and severity an open incident with these should
// have after g: see AlertGroup.Mirror.
// groupState is what an open incident's group last said, and the
// incident's own title and severity.
type groupState struct {
	title, sev           string // the incident's
	groupTitle, groupSev string // its group's, at the last notification
}

// groupTitle is g's title as an incident keeps it.
func (g *AlertGroup) groupTitle() string {
	if !g.Mirror || g.Title == "" {
		return ""
	}
	return clipTitle(g.Title)
}

// clipTitle cuts an alert's title to the 500 bytes an incident's title
// may have.
func clipTitle(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

// update returns the state after notification g (see AlertGroup.Mirror).
// A group value not known yet (an incident opened before tandem kept them)
// is recorded without being applied: there is no change to compare with.
func (g *AlertGroup) update(st groupState) groupState {
	if t := g.groupTitle(); t != "" && t != st.groupTitle {
		if st.groupTitle != "" {
			st.title = t
		}
		st.groupTitle = t
	}
	if s, ok := ParseSeverity(g.Severity); ok && g.Severity != "" && s != st.groupSev {
		if st.groupSev != "" && (s < st.sev || g.Mirror) { // "sev1" < "sev2": more severe sorts first
			st.sev = s
		}
		st.groupSev = s
	}
	return st
}

// updateFromGroup applies g's title and severity to open incident id (see
// AlertGroup.Mirror) and puts the change on the timeline.
func (m *Manager) updateFromGroup(ctx context.Context, tx *db.Tx, id int64, g AlertGroup, now time.Time) error {
	var old groupState
	if err := tx.QueryRow(ctx, `SELECT title, severity, group_title, group_severity FROM incidents WHERE id = ?`, id).
		Scan(&old.title, &old.sev, &old.groupTitle, &old.groupSev); err != nil {
		return err
	}
	st := g.update(old)
	if st == old {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE incidents SET title = ?, severity = ?, group_title = ?, group_severity = ?, updated_at = ? WHERE id = ?`,
		st.title, st.sev, st.groupTitle, st.groupSev, db.Millis(now), id); err != nil {
		return err
	}
	var changed []string
	if st.sev != old.sev {
		changed = append(changed, "severity "+old.sev+" → "+st.sev)
	}
	if st.title != old.title {
		changed = append(changed, fmt.Sprintf("title %q", st.title))
	}
	if len(changed) == 0 {
		return nil // only the group's own record moved
	}
	return m.addEvent(ctx, tx, id, now, EvUpdate, g.Source, "updated from "+g.Source+": "+strings.Join(changed, ", "), nil)
}

func earliest(as []GroupAlert, now time.Time) time.Time {
	t := now
	for _, a := range as {
		if a.Status == Firing && !a.StartsAt.IsZero() && a.StartsAt.Before(t) {
			t = a.StartsAt
		}
	}
	return t
}

// recordAlerts upserts the group's alerts by fingerprint and puts every
// change of an alert's status on the timeline. A repeated notification
// changes nothing and reports false.
func (m *Manager) recordAlerts(ctx context.Context, tx *db.Tx, id int64, g AlertGroup, now time.Time) (bool, error) {
	changed := false
	for _, a := range g.Alerts {
		var old string
		err := tx.QueryRow(ctx, `SELECT status FROM incident_alerts WHERE incident_id = ? AND fingerprint = ?`, id, a.Fingerprint).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
		if old == a.Status {
			continue
		}
		starts := a.StartsAt
		if starts.IsZero() {
			starts = now
		}
		if old == "" {
			if _, err := tx.Exec(ctx, `INSERT INTO incident_alerts (incident_id, fingerprint, status, labels, starts_at, ends_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				id, a.Fingerprint, a.Status, jsonText(a.Labels), db.Millis(starts), db.Millis(a.EndsAt), db.Millis(now)); err != nil {
				return false, err
			}
		} else if _, err := tx.Exec(ctx, `UPDATE incident_alerts SET status = ?, labels = ?, ends_at = ?, updated_at = ? WHERE incident_id = ? AND fingerprint = ?`,
			a.Status, jsonText(a.Labels), db.Millis(a.EndsAt), db.Millis(now), id, a.Fingerprint); err != nil {
			return false, err
		}
		changed = true
		kind, verb := EvAlertFired, "fired"
		if a.Status == AlertClosed {
			kind, verb = EvAlertResolve, "resolved"
		}
		name := a.Labels["alertname"]
		if name == "" {
			name = a.Fingerprint
		}
		msg := fmt.Sprintf("alert %s %s", name, verb)
		if d := labelText(a.Labels); d != "" {
			msg += " {" + d + "}"
		}
		if err := m.addEvent(ctx, tx, id, now, kind, g.Source, msg, map[string]any{"fingerprint": a.Fingerprint}); err != nil {
			return false, err
		}
	}
	return changed, nil
}

func labelText(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		if b.Len() > 300 {
			b.WriteString("…")
			break
		}
		fmt.Fprintf(&b, "%s=%q", k, l[k])
	}
	return b.String()
}

// CloseGroup closes the latest incident the source's group opened, if it
// is not closed yet, and returns it (the zero Incident when there is none).
func (m *Manager) CloseGroup(ctx context.Context, source, groupKey, actor string) (Incident, error) {
	now := m.clock.Now()
	var id int64
	err := m.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM incidents WHERE group_ref = ? AND status <> ? ORDER BY id DESC LIMIT 1`,
			source+":"+groupKey, Closed).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		inc, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		return m.transitionTx(ctx, tx, inc, actor, Closed, "closed at the source", now)
	})
	if err != nil || id == 0 {
		return Incident{}, err
	}
	m.engine.Wake()
	return m.Get(ctx, id)
}

package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
)

// Directories gives the on-call directory (schedules with their overrides,
// policies, notification rules) valid at an instant. *oncall.Service
// implements it.
type Directories interface {
	DirectoryAt(ctx context.Context, at time.Time) (*oncall.Directory, error)
}

// ChangeFinder finds the changes around an instant. *change.Store
// implements it.
type ChangeFinder interface {
	AroundIn(ctx context.Context, environment string, services []string, at time.Time, before, after time.Duration) ([]change.Event, error)
}

// CloseHook runs in the transaction that closes an incident; its error
// aborts the close.
type CloseHook func(ctx context.Context, tx *db.Tx, inc Incident) error

// Manager is the incident store and the lifecycle around it. Build it with
// NewManager, then set the optional fields before use.
type Manager struct {
	// Directories resolves escalation targets (nil: nobody is paged).
	Directories Directories
	// Changes finds suspects (nil: no suspects).
	Changes ChangeFinder
	// Catalog returns the live catalog, for service dependencies (nil: none).
	Catalog func() *catalog.Catalog
	// Settings returns the live settings (nil: DefaultSettings).
	Settings func() Settings

	db     *db.DB
	clock  clock.Clock
	log    *slog.Logger
	engine *engine.Engine
	sender *notify.Sender

	mu         sync.RWMutex
	hooks      []CloseHook
	eventHooks []EventHook
	pagers     map[string]Pager
	// sent, when set, is called after each page is handed to the sender
	// and accepted (benchmarks measure latency with it).
	sent func(inc int64, person, method string)
}

// NewManager returns a manager on d that pages through sender, and
// registers its job kinds on e.
func NewManager(d *db.DB, c clock.Clock, log *slog.Logger, e *engine.Engine, sender *notify.Sender) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{db: d, clock: c, log: log, engine: e, sender: sender}
	e.RegisterTx(jobEscalate, m.runStep)
	e.RegisterTx(jobAckTimeout, m.runAckTimeout)
	e.RegisterTx(jobMaintenanceEnd, m.runMaintenanceEnd)
	e.RegisterTx(jobHeartbeat, m.runHeartbeatCheck)
	e.Register(jobPage, m.runPage)
	return m
}

// OnClose registers a hook run in the transaction of every close.
func (m *Manager) OnClose(h CloseHook) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hooks = append(m.hooks, h)
}

// OnPageSent sets a function called after each page the provider accepted.
func (m *Manager) OnPageSent(f func(incidentID int64, person, method string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = f
}

func (m *Manager) settings() Settings {
	if m.Settings == nil {
		return DefaultSettings()
	}
	return m.Settings()
}

// DB returns the database the manager writes to.
func (m *Manager) DB() *db.DB { return m.db }

const incidentCols = `id, title, services, severity, status, commander, summary, labels, links, users_affected, revenue_estimate,
	source, policy, assignee, generation, triggered_at, started_at, detected_at, acknowledged_at, resolved_at, closed_at`

type scanner interface{ Scan(...any) error }

func scanIncident(r scanner) (Incident, error) {
	var inc Incident
	var services, labels, links string
	var trig, started, detected, acked, resolved, closed int64
	err := r.Scan(&inc.ID, &inc.Title, &services, &inc.Severity, &inc.Status, &inc.Commander, &inc.Summary, &labels, &links,
		&inc.Impact.UsersAffected, &inc.Impact.RevenueEstimate, &inc.Source, &inc.Policy, &inc.Assignee, &inc.generation,
		&trig, &started, &detected, &acked, &resolved, &closed)
	if err != nil {
		return inc, err
	}
	_ = json.Unmarshal([]byte(services), &inc.Services)
	_ = json.Unmarshal([]byte(labels), &inc.Labels)
	_ = json.Unmarshal([]byte(links), &inc.Links)
	if inc.Services == nil {
		inc.Services = []string{}
	}
	if inc.Labels == nil {
		inc.Labels = map[string]string{}
	}
	if inc.Links == nil {
		inc.Links = map[string]string{}
	}
	inc.triggeredAt = db.Time(trig)
	inc.StartedAt, inc.DetectedAt = db.Time(started), db.Time(detected)
	inc.AcknowledgedAt, inc.ResolvedAt, inc.ClosedAt = optTime(acked), optTime(resolved), optTime(closed)
	return inc, nil
}

func optTime(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := db.Time(ms)
	return &t
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func notFound(id int64) error {
	return tandem.Errorf(tandem.ENotFound, "no incident #%d", id)
}

// forUpdate locks the selected row on PostgreSQL; SQLite's single writer
// already excludes every other writer.
func forUpdate(tx *db.Tx) string {
	if tx.Dialect() == db.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func getTx(ctx context.Context, tx *db.Tx, id int64) (Incident, error) {
	inc, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`+forUpdate(tx), id))
	if errors.Is(err, sql.ErrNoRows) {
		return inc, notFound(id)
	}
	return inc, err
}

// Get returns the incident with its suspects.
func (m *Manager) Get(ctx context.Context, id int64) (Incident, error) {
	inc, err := scanIncident(m.db.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return inc, notFound(id)
	}
	if err != nil {
		return inc, fmt.Errorf("get incident: %w", err)
	}
	rows, err := m.db.Query(ctx, `SELECT change_id, service, kind, version, status, at FROM incident_suspects WHERE incident_id = ? ORDER BY at DESC`, id)
	if err != nil {
		return inc, fmt.Errorf("get incident suspects: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Suspect
		var at int64
		if err := rows.Scan(&s.ChangeID, &s.Service, &s.Kind, &s.Version, &s.Status, &at); err != nil {
			return inc, err
		}
		s.At = db.Time(at)
		inc.Suspects = append(inc.Suspects, s)
	}
	if err := rows.Err(); err != nil {
		return inc, err
	}
	rows.Close()
	inc.Responders, err = m.responders(ctx, id)
	return inc, err
}

// List returns incidents matching f, most recently started first.
func (m *Manager) List(ctx context.Context, f Filter) ([]Incident, error) {
	var where []string
	var args []any
	if len(f.Status) > 0 {
		ph := make([]string, len(f.Status))
		for i, s := range f.Status {
			switch s {
			case Triggered, Acknowledged, Resolved, Closed:
			default:
				return nil, tandem.FieldErrorf("status", "want triggered, acknowledged, resolved or closed; got %q", s)
			}
			ph[i] = "?"
			args = append(args, s)
		}
		where = append(where, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Severity != "" {
		sev, ok := ParseSeverity(f.Severity)
		if !ok {
			return nil, tandem.FieldErrorf("severity", "want sev1..sev4; got %q", f.Severity)
		}
		where = append(where, "severity = ?")
		args = append(args, sev)
	}
	if f.Service != "" {
		// One row per service in incident_services, indexed by name: an
		// exact match, so '_' and '%' in a name are just characters.
		where = append(where, "id IN (SELECT incident_id FROM incident_services WHERE service = ?)")
		args = append(args, f.Service)
	}
	if !f.Since.IsZero() {
		where = append(where, "started_at >= ?")
		args = append(args, db.Millis(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "started_at < ?")
		args = append(args, db.Millis(f.Until))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 10000)
	q := `SELECT ` + incidentCols + ` FROM incidents`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started_at DESC, id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := m.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	out := []Incident{}
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, inc)
	}
	return out, rows.Err()
}

// Timeline returns the incident's events in order: the stored ones and,
// merged in, the changes made on its services while it lasted (see
// withRelated).
func (m *Manager) Timeline(ctx context.Context, id int64) ([]Event, error) {
	inc, err := scanIncident(m.db.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	rows, err := m.db.Query(ctx, `SELECT id, incident_id, at, kind, actor, message, data FROM incident_events WHERE incident_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at int64
		var data string
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Kind, &e.Actor, &e.Message, &data); err != nil {
			return nil, err
		}
		e.At = db.Time(at)
		if data != "" && data != "{}" {
			_ = json.Unmarshal([]byte(data), &e.Data)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The rows are drained, so their connection is back in the pool before
	// the change log is read.
	return m.withRelated(ctx, inc, out), nil
}

// addEvent puts an entry on an incident's timeline in tx and runs the
// event hooks in the same transaction.
func (m *Manager) addEvent(ctx context.Context, tx *db.Tx, id int64, at time.Time, kind, actor, msg string, data map[string]any) error {
	d := "{}"
	if len(data) > 0 {
		d = jsonText(data)
	}
	var evID int64
	err := tx.QueryRow(ctx, `INSERT INTO incident_events (incident_id, at, kind, actor, message, data) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		id, db.Millis(at), kind, actor, msg, d).Scan(&evID)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	m.mu.RLock()
	hooks := m.eventHooks
	m.mu.RUnlock()
	if len(hooks) == 0 {
		return nil
	}
	ev := Event{ID: evID, IncidentID: id, At: at.UTC(), Kind: kind, Actor: actor, Message: msg, Data: data}
	for _, h := range hooks {
		if err := h(ctx, tx, ev); err != nil {
			return fmt.Errorf("event hook: %w", err)
		}
	}
	return nil
}

// EventHook runs in the transaction that puts an entry on an incident's
// timeline; its error aborts that transaction (and whatever caused the
// entry). Hooks enqueue jobs; they must not call out.
type EventHook func(ctx context.Context, tx *db.Tx, ev Event) error

// OnEvent registers a hook run for every timeline entry stored.
func (m *Manager) OnEvent(h EventHook) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.eventHooks = append(slices.Clone(m.eventHooks), h)
}

// GetTx reads an incident in tx (locking its row on PostgreSQL), for
// hooks that run in the incident's transactions.
func (m *Manager) GetTx(ctx context.Context, tx *db.Tx, id int64) (Incident, error) {
	return getTx(ctx, tx, id)
}

// AddNote adds a manual note to the timeline.
func (m *Manager) AddNote(ctx context.Context, id int64, actor, text string) (Event, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Event{}, tandem.FieldErrorf("text", "note text is required")
	}
	if len(text) > 10000 {
		return Event{}, tandem.FieldErrorf("text", "note is longer than 10000 characters")
	}
	now := m.clock.Now()
	err := m.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := getTx(ctx, tx, id); err != nil {
			return err
		}
		return m.addEvent(ctx, tx, id, now, EvNote, actor, text, nil)
	})
	if err != nil {
		return Event{}, err
	}
	return Event{IncidentID: id, At: now.UTC(), Kind: EvNote, Actor: actor, Message: text}, nil
}

// Open opens an incident by hand and starts its escalation (unless
// in.NoPage or a maintenance window covers its service).
func (m *Manager) Open(ctx context.Context, in OpenInput) (Incident, error) {
	now := m.clock.Now()
	if err := in.validate(now); err != nil {
		return Incident{}, err
	}
	if in.Source == "" {
		in.Source = "manual"
	}
	plan, err := m.prepareOpen(ctx, in.Services, EnvironmentOf(in.Labels), in.StartedAt, in.NoPage, now)
	if err != nil {
		return Incident{}, err
	}
	var id int64
	err = m.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = m.openTx(ctx, tx, in, "", now, plan)
		return err
	})
	if err != nil {
		return Incident{}, err
	}
	m.engine.Wake()
	return m.Get(ctx, id)
}

// openPlan is what opening an incident reads from outside its transaction:
// the escalation policy and the suspects. It is read before the
// transaction begins, so a request never holds a write transaction while
// it waits for a second database connection (on PostgreSQL a pool full of
// such requests would wait on each other forever).
type openPlan struct {
	dir      *oncall.Directory // read before the transaction; nil without directories
	policy   string
	fallback bool // policy is Settings.FallbackPolicy: no service had one
	suspects []change.Event
}

func (m *Manager) prepareOpen(ctx context.Context, services []string, env string, start time.Time, noPage bool, now time.Time) (*openPlan, error) {
	p := &openPlan{}
	if m.Directories != nil && !noPage {
		dir, err := m.Directories.DirectoryAt(ctx, now)
		if err != nil {
			return nil, fmt.Errorf("on-call directory: %w", err)
		}
		p.dir = dir
		for _, s := range services {
			if pol, ok := dir.PolicyForService(s); ok {
				p.policy = pol.Name
				break
			}
		}
		if fb := m.settings().FallbackPolicy; p.policy == "" && fb != "" {
			if _, ok := dir.Policy(fb); ok {
				p.policy, p.fallback = fb, true
			}
		}
	}
	p.suspects = m.findSuspects(ctx, services, env, start)
	return p, nil
}

// openTx inserts an incident, its opening timeline, its suspects and its
// first escalation step. plan nil reads the policy and suspects here (job
// handlers, which run one at a time per process).
func (m *Manager) openTx(ctx context.Context, tx *db.Tx, in OpenInput, dedup string, now time.Time, plan *openPlan) (int64, error) {
	in.Services = dedupe(in.Services)
	if in.Labels == nil {
		in.Labels = map[string]string{}
	}
	if in.Links == nil {
		in.Links = map[string]string{}
	}
	var imp Impact
	if in.Impact != nil {
		imp = *in.Impact
	}
	if plan == nil {
		var err error
		if plan, err = m.prepareOpen(ctx, in.Services, EnvironmentOf(in.Labels), in.StartedAt, in.NoPage, now); err != nil {
			return 0, err
		}
	}
	policy := plan.policy
	var dk any
	if dedup != "" {
		dk = dedup
	}
	// group_ref keeps the group after dedup_key is cleared at resolve, so
	// a later "close" from the source (a closed GitHub issue) finds it.
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO incidents (title, services, severity, status, commander, summary, labels, links,
		users_affected, revenue_estimate, source, dedup_key, group_ref, policy, generation, triggered_at, started_at, detected_at, updated_at,
		group_title, group_severity)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Title, jsonText(in.Services), in.Severity, Triggered, in.Commander, in.Summary, jsonText(in.Labels), jsonText(in.Links),
		imp.UsersAffected, imp.RevenueEstimate, in.Source, dk, dedup, policy, db.Millis(now), db.Millis(in.StartedAt), db.Millis(now), db.Millis(now),
		in.group.groupTitle, in.group.groupSev).Scan(&id)
	if err != nil {
		return 0, err
	}
	for _, svc := range in.Services {
		if _, err := tx.Exec(ctx, `INSERT INTO incident_services (incident_id, service) VALUES (?, ?)`, id, svc); err != nil {
			return 0, fmt.Errorf("incident services: %w", err)
		}
	}
	msg := fmt.Sprintf("incident opened (%s) on %s", in.Severity, strings.Join(in.Services, ", "))
	if err := m.addEvent(ctx, tx, id, now, EvOpened, in.Actor, msg, map[string]any{"source": in.Source}); err != nil {
		return 0, err
	}
	if err := m.attachSuspects(ctx, tx, id, plan.suspects, in.StartedAt); err != nil {
		return 0, err
	}
	if plan.fallback && !in.NoPage {
		if err := m.addEvent(ctx, tx, id, now, EvEscalation, "", fmt.Sprintf("no escalation policy for %s: paging the fallback policy %s",
			strings.Join(in.Services, ", "), policy), map[string]any{"fallback": true}); err != nil {
			return 0, err
		}
	}
	if in.NoPage {
		return id, nil
	}
	inc := Incident{ID: id, Services: in.Services, Policy: policy, Status: Triggered, triggeredAt: now}
	return id, m.startEscalation(ctx, tx, inc, now, plan.dir)
}

func dedupe(ss []string) []string {
	out := []string{}
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// SuspectWindow is how far before impact start changes are suspects.
const SuspectWindow = 2 * time.Hour

// findSuspects returns the changes in environment env on the services and
// their dependencies in the SuspectWindow before start: a staging change
// never suspects a production incident. Suspects help; a failure to find
// them is logged and does not stop an incident from opening.
func (m *Manager) findSuspects(ctx context.Context, services []string, env string, start time.Time) []change.Event {
	scope := m.changeScope(services)
	if m.Changes == nil || len(scope) == 0 {
		return nil // Around reads an empty scope as every service
	}
	evs, err := m.Changes.AroundIn(ctx, env, scope, start, SuspectWindow, 0)
	if err != nil {
		m.log.Warn("incident: finding suspects failed", "services", services, "err", err)
		return nil
	}
	return evs
}

// attachSuspects records the suspects and puts them on the timeline.
func (m *Manager) attachSuspects(ctx context.Context, tx *db.Tx, id int64, evs []change.Event, start time.Time) error {
	for _, ev := range evs {
		at := ev.At()
		if at.After(start) {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO incident_suspects (incident_id, change_id, service, kind, version, status, at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (incident_id, change_id) DO NOTHING`, id, ev.ID, ev.Service, ev.Kind, ev.Version, ev.Status, db.Millis(at)); err != nil {
			return err
		}
		msg := fmt.Sprintf("suspect: %s %s of %s", ev.Kind, ev.Version, ev.Service)
		if ev.Status != "" && ev.Status != change.StatusSuccess {
			msg += " (" + ev.Status + ")"
		}
		msg += fmt.Sprintf(" %s before impact", start.Sub(at).Round(time.Minute))
		if err := m.addEvent(ctx, tx, id, at, EvChange, "", strings.Join(strings.Fields(msg), " "), map[string]any{"change_id": ev.ID}); err != nil {
			return err
		}
	}
	return nil
}

// transition moves an incident to status to, with its timeline entry.
func (m *Manager) transition(ctx context.Context, id int64, actor, to, note string) (Incident, error) {
	now := m.clock.Now()
	var timeout time.Duration
	if to == Acknowledged {
		cur, err := m.Get(ctx, id)
		if err != nil {
			return Incident{}, err
		}
		if timeout, err = m.ackTimeout(ctx, cur.Services, now); err != nil {
			return Incident{}, err
		}
	}
	err := m.db.InTx(ctx, func(tx *db.Tx) error {
		inc, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := m.transitionTx(ctx, tx, inc, actor, to, note, now); err != nil {
			return err
		}
		if to == Acknowledged {
			return m.scheduleAckTimeout(ctx, tx, inc, now, timeout)
		}
		return nil
	})
	if err != nil {
		return Incident{}, err
	}
	m.engine.Wake()
	return m.Get(ctx, id)
}

var order = map[string]int{Triggered: 0, Acknowledged: 1, Resolved: 2, Closed: 3}

// transitionTx changes the status and records it; an ack's timeout is
// scheduled by the caller (transition), which reads it outside the
// transaction.
func (m *Manager) transitionTx(ctx context.Context, tx *db.Tx, inc Incident, actor, to, note string, now time.Time) error {
	if inc.Status == to {
		return tandem.Errorf(tandem.EConflict, "incident #%d is already %s", inc.ID, to)
	}
	if order[to] < order[inc.Status] {
		return tandem.Errorf(tandem.EConflict, "incident #%d is %s; it cannot become %s", inc.ID, inc.Status, to)
	}
	ms := db.Millis(now)
	var err error
	switch to {
	case Acknowledged:
		_, err = tx.Exec(ctx, `UPDATE incidents SET status = ?, acknowledged_at = ?, updated_at = ? WHERE id = ?`, to, ms, ms, inc.ID)
	case Resolved:
		_, err = tx.Exec(ctx, `UPDATE incidents SET status = ?, acknowledged_at = CASE WHEN acknowledged_at = 0 THEN ? ELSE acknowledged_at END,
			resolved_at = ?, dedup_key = NULL, updated_at = ? WHERE id = ?`, to, ms, ms, ms, inc.ID)
	case Closed:
		_, err = tx.Exec(ctx, `UPDATE incidents SET status = ?, acknowledged_at = CASE WHEN acknowledged_at = 0 THEN ? ELSE acknowledged_at END,
			resolved_at = CASE WHEN resolved_at = 0 THEN ? ELSE resolved_at END, closed_at = ?, dedup_key = NULL, updated_at = ? WHERE id = ?`, to, ms, ms, ms, ms, inc.ID)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s → %s", inc.Status, to)
	if actor != "" {
		msg += " by " + actor
	}
	if note != "" {
		msg += ": " + note
	}
	if err := m.addEvent(ctx, tx, inc.ID, now, EvStatus, actor, msg, map[string]any{"from": inc.Status, "to": to}); err != nil {
		return err
	}
	switch to {
	case Closed:
		closed, err := getTx(ctx, tx, inc.ID)
		if err != nil {
			return err
		}
		m.mu.RLock()
		hooks := slices.Clone(m.hooks)
		m.mu.RUnlock()
		for _, h := range hooks {
			if err := h(ctx, tx, closed); err != nil {
				return fmt.Errorf("close hook: %w", err)
			}
		}
	}
	return nil
}

// Ack acknowledges an incident: escalation stops.
func (m *Manager) Ack(ctx context.Context, id int64, actor string) (Incident, error) {
	return m.transition(ctx, id, actor, Acknowledged, "")
}

// Resolve resolves an incident: every pending page and step stops.
func (m *Manager) Resolve(ctx context.Context, id int64, actor, note string) (Incident, error) {
	return m.transition(ctx, id, actor, Resolved, note)
}

// Close closes an incident, running the close hooks in its transaction.
func (m *Manager) Close(ctx context.Context, id int64, actor string) (Incident, error) {
	return m.transition(ctx, id, actor, Closed, "")
}

// Update changes descriptive fields and records what changed.
func (m *Manager) Update(ctx context.Context, id int64, actor string, u Update) (Incident, error) {
	now := m.clock.Now()
	err := m.db.InTx(ctx, func(tx *db.Tx) error {
		inc, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		var changed []string
		if u.Title != nil {
			t := strings.TrimSpace(*u.Title)
			if t == "" || len(t) > 500 {
				return tandem.FieldErrorf("title", "title must be 1 to 500 characters")
			}
			inc.Title = t
			changed = append(changed, "title")
		}
		if u.Severity != nil {
			s, ok := ParseSeverity(*u.Severity)
			if !ok {
				return tandem.FieldErrorf("severity", "want sev1..sev4; got %q", *u.Severity)
			}
			if s != inc.Severity {
				changed = append(changed, "severity "+inc.Severity+" → "+s)
			}
			inc.Severity = s
		}
		if u.Commander != nil {
			inc.Commander = strings.TrimSpace(*u.Commander)
			changed = append(changed, "commander "+inc.Commander)
		}
		if u.Summary != nil {
			inc.Summary = *u.Summary
			changed = append(changed, "summary")
		}
		if u.StartedAt != nil {
			if u.StartedAt.After(now) {
				return tandem.FieldErrorf("started_at", "impact start is in the future")
			}
			inc.StartedAt = *u.StartedAt
			changed = append(changed, "impact start")
		}
		if u.Impact != nil {
			if u.Impact.UsersAffected < 0 || u.Impact.RevenueEstimate < 0 {
				return tandem.FieldErrorf("impact", "impact figures must not be negative")
			}
			inc.Impact = *u.Impact
			changed = append(changed, "impact")
		}
		for k, v := range u.Links {
			inc.Links[k] = v
			changed = append(changed, "link "+k)
		}
		for k, v := range u.Labels {
			inc.Labels[k] = v
			changed = append(changed, "label "+k)
		}
		if len(changed) == 0 {
			return nil
		}
		sort.Strings(changed)
		if _, err := tx.Exec(ctx, `UPDATE incidents SET title = ?, severity = ?, commander = ?, summary = ?, started_at = ?,
			users_affected = ?, revenue_estimate = ?, links = ?, labels = ?, updated_at = ? WHERE id = ?`,
			inc.Title, inc.Severity, inc.Commander, inc.Summary, db.Millis(inc.StartedAt), inc.Impact.UsersAffected, inc.Impact.RevenueEstimate,
			jsonText(inc.Links), jsonText(inc.Labels), db.Millis(now), id); err != nil {
			return err
		}
		return m.addEvent(ctx, tx, id, now, EvUpdate, actor, "updated "+strings.Join(changed, ", "), nil)
	})
	if err != nil {
		return Incident{}, err
	}
	return m.Get(ctx, id)
}

// RecordEvent puts an automatic event on an incident's timeline at e.At:
// for importing history (the demo, migrations from another tool), where the
// event happened elsewhere. Kind must be one of the timeline kinds.
func (m *Manager) RecordEvent(ctx context.Context, id int64, e Event) error {
	switch e.Kind {
	case EvAlertFired, EvAlertResolve, EvEscalation, EvPage, EvPageFailed, EvNote, EvChange, EvMaintenance, EvUpdate, EvReassign, EvResponder:
	default:
		return tandem.FieldErrorf("kind", "cannot record a %q event", e.Kind)
	}
	if e.At.IsZero() || strings.TrimSpace(e.Message) == "" {
		return tandem.FieldErrorf("message", "an event needs a time and a message")
	}
	return m.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := getTx(ctx, tx, id); err != nil {
			return err
		}
		return m.addEvent(ctx, tx, id, e.At, e.Kind, e.Actor, e.Message, e.Data)
	})
}

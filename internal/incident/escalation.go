package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
)

// MattermostActionPath is where Mattermost buttons post, under the base URL.
const MattermostActionPath = "/api/v1/webhooks/mattermost/actions"

// Job kinds the manager registers.
const (
	jobEscalate       = "incident.escalate"
	jobPage           = "incident.page"
	jobAckTimeout     = "incident.ack_timeout"
	jobMaintenanceEnd = "incident.maintenance_end"
	jobHeartbeat      = "incident.heartbeat_check"
)

// Settings are the incident capability's live settings (from config).
type Settings struct {
	// AutoResolve resolves an alert-opened incident when all its alerts
	// are resolved (default true).
	AutoResolve bool
	// Mapping turns alert labels into service and severity.
	Mapping Mapping
	// BaseURL is tandem's public URL, for links in messages.
	BaseURL string
	// ActionKey signs one-click ack/resolve links (empty: no links).
	ActionKey []byte
	// ActionTTL is how long a link works (default 24h).
	ActionTTL time.Duration
	// SlackWebhookURL is the incoming webhook pages by Slack are posted to.
	SlackWebhookURL string
	// WebhookSecret signs pages sent to people's webhook contact methods.
	WebhookSecret string
	// TeamsWebhookURL is the Microsoft Teams webhook pages by Teams are
	// posted to.
	TeamsWebhookURL string
	// MattermostWebhookURL is the incoming webhook pages by Mattermost are
	// posted to; MattermostActionSecret signs their buttons (empty: no
	// buttons).
	MattermostWebhookURL, MattermostActionSecret string
	// FallbackPolicy is the escalation policy paged for an incident none of
	// whose services names one (a service missing from the catalog, an
	// alert without a service label): without it such an incident pages
	// nobody. Empty: none.
	FallbackPolicy string
	// TimeScale multiplies every escalation, notification-rule and ack
	// timeout delay (default 1). Tests set it small (0.001 turns a
	// 10-minute delay into 600ms); never set it in production.
	TimeScale float64
}

// DefaultSettings are used when none are configured.
func DefaultSettings() Settings {
	return Settings{AutoResolve: true, Mapping: DefaultMapping(), ActionTTL: 24 * time.Hour, TimeScale: 1}
}

func (s Settings) scale(d time.Duration) time.Duration {
	if s.TimeScale <= 0 || s.TimeScale == 1 {
		return d
	}
	return time.Duration(float64(d) * s.TimeScale)
}

// stepPayload is an escalation step job: step Index of the incident's
// policy plan for trigger Generation (a re-trigger starts a new plan).
// Ahead is how much earlier than planned the plan runs from this step on:
// a rule that paged nobody escalates at once, as PagerDuty's does, and the
// later rules keep their delays from then.
type stepPayload struct {
	Incident    int64         `json:"incident"`
	Generation  int           `json:"generation"`
	Index       int           `json:"index"`
	TriggeredAt time.Time     `json:"triggered_at"`
	Ahead       time.Duration `json:"ahead,omitempty"`
}

// pagePayload is one notification to one person by one contact method.
type pagePayload struct {
	Incident   int64                `json:"incident"`
	Generation int                  `json:"generation"`
	Person     string               `json:"person"`
	Method     oncall.ContactMethod `json:"method"`
	Loop       int                  `json:"loop"`
	Rule       int                  `json:"rule"`
	// Responder marks a page asking a person to join: it goes out while
	// the incident is triggered or acknowledged, whatever its generation.
	Responder bool `json:"responder,omitempty"`
}

// plan is the policy's steps for a trigger at triggeredAt, with the
// configured time scale applied to the offsets.
func (s Settings) plan(p oncall.Policy, triggeredAt time.Time) []oncall.Step {
	steps := oncall.Steps(p, triggeredAt)
	for i := range steps {
		steps[i].Offset = s.scale(steps[i].Offset)
		steps[i].At = triggeredAt.Add(steps[i].Offset)
	}
	return steps
}

// startEscalation runs the first step of inc's policy, unless a
// maintenance window covers one of its services. dir is the on-call
// directory at now when the caller read it before the transaction (a
// request must not wait for a second connection while it holds one); nil
// reads it here.
func (m *Manager) startEscalation(ctx context.Context, tx *db.Tx, inc Incident, now time.Time, dir *oncall.Directory) error {
	if inc.Policy == "" {
		m.log.Warn("incident: nobody paged: no escalation policy for its services and no incidents.fallback_escalation_policy",
			"incident", inc.ID, "services", inc.Services)
		return m.addEvent(ctx, tx, inc.ID, now, EvEscalation, "", "no escalation policy for "+strings.Join(inc.Services, ", ")+
			" and no fallback policy (incidents.fallback_escalation_policy): nobody paged", nil)
	}
	if w, ok, err := activeWindow(ctx, tx, inc.Services, now); err != nil {
		return err
	} else if ok {
		return m.addEvent(ctx, tx, inc.ID, now, EvMaintenance,
			"", fmt.Sprintf("%s is in maintenance window #%d until %s (%s): nobody paged", w.Service, w.ID, w.End().UTC().Format(time.RFC3339), w.Reason),
			heldBy(w.ID))
	}
	first := engine.NewJob{
		Kind:    jobEscalate,
		Key:     stepKey(inc.ID, inc.generation, 0),
		Payload: stepPayload{Incident: inc.ID, Generation: inc.generation, Index: 0, TriggeredAt: now},
		RunAt:   now,
	}
	// The first step runs here, in the transaction that opens (or
	// re-triggers) the incident: its pages are enqueued with the incident,
	// with no step job to claim in between. Its job is recorded done, so
	// its key still makes it once. If the step cannot run now (the on-call
	// directory unreadable), its writes are undone and it is enqueued as a
	// job, retried like any other step.
	if _, err := tx.Exec(ctx, "SAVEPOINT first_step"); err != nil {
		return err
	}
	added, err := engine.EnqueueDone(ctx, tx, first)
	if err == nil && added {
		err = m.fireStep(ctx, tx, first.Payload.(stepPayload), now, dir)
	}
	if err == nil {
		_, err = tx.Exec(ctx, "RELEASE SAVEPOINT first_step")
		return err
	}
	m.log.Warn("incident: first escalation step deferred to a job", "incident", inc.ID, "err", err)
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT first_step"); err != nil {
		return err
	}
	_, err = engine.Enqueue(ctx, tx, first)
	return err
}

func stepKey(id int64, gen, index int) string {
	return stepPrefix(id, gen) + strconv.Itoa(index)
}

// stepPrefix starts the keys of every step of one escalation.
func stepPrefix(id int64, gen int) string {
	return "incident:" + strconv.FormatInt(id, 10) + ":g" + strconv.Itoa(gen) + ":step:"
}

// runStep is an escalation step. In the transaction that completes the job
// it checks that the incident is still triggered in the same generation,
// enqueues a page job per person and notification rule, records the step
// and enqueues the next step. So a step fires once or not at all. A rule
// that pages nobody (no one on call for its schedules, or no contact
// method) escalates to the next rule at once instead of after its delay.
func (m *Manager) runStep(ctx context.Context, tx *db.Tx, j engine.Job) error {
	var p stepPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return engine.Permanent(fmt.Errorf("bad step payload: %w", err))
	}
	return m.fireStep(ctx, tx, p, j.RunAt, nil)
}

// fireStep is step p of an escalation, due at runAt, in tx. dir is the
// on-call directory at runAt, or nil to read it.
func (m *Manager) fireStep(ctx context.Context, tx *db.Tx, p stepPayload, runAt time.Time, dir *oncall.Directory) error {
	inc, err := getTx(ctx, tx, p.Incident)
	if err != nil {
		return engine.Permanent(err)
	}
	if inc.Status != Triggered || inc.generation != p.Generation {
		return nil // acknowledged, resolved or re-triggered since: stop
	}
	if m.Directories == nil {
		return nil
	}
	set := m.settings()
	if dir == nil {
		if dir, err = m.Directories.DirectoryAt(ctx, runAt); err != nil {
			return fmt.Errorf("on-call directory: %w", err)
		}
	}
	pol, ok := dir.Policy(inc.Policy)
	if !ok {
		return m.addEvent(ctx, tx, inc.ID, runAt, EvEscalation, "", "escalation policy "+inc.Policy+" no longer exists: escalation stopped", nil)
	}
	steps := set.plan(pol, p.TriggeredAt)
	if p.Index >= len(steps) {
		return nil
	}
	st := steps[p.Index]
	st.At = st.At.Add(-p.Ahead)
	if w, ok, err := activeWindow(ctx, tx, inc.Services, st.At); err != nil {
		return err
	} else if ok {
		return m.addEvent(ctx, tx, inc.ID, st.At, EvMaintenance, "",
			fmt.Sprintf("escalation stopped: %s entered maintenance window #%d (%s)", w.Service, w.ID, w.Reason), heldBy(w.ID))
	}
	people := dir.ResolveAll(st.Targets, st.At)
	msg := fmt.Sprintf("escalation loop %d rule %d: ", st.Loop+1, st.Rule+1)
	if len(people) == 0 {
		msg += "nobody to page (no one on call for " + targetsText(st.Targets) + ")"
	} else {
		msg += "paging " + strings.Join(people, ", ")
	}
	if err := m.addEvent(ctx, tx, inc.ID, st.At, EvEscalation, "", msg,
		map[string]any{"loop": st.Loop, "rule": st.Rule, "people": people}); err != nil {
		return err
	}
	paged := 0
	for _, person := range people {
		ns := dir.Notifications(person, st.At)
		if len(ns) == 0 {
			if err := m.addEvent(ctx, tx, inc.ID, st.At, EvPageFailed, "", person+" has no contact method for their notification rules", nil); err != nil {
				return err
			}
		}
		paged += len(ns)
		for _, n := range ns {
			at := st.At.Add(set.scale(n.At.Sub(st.At)))
			key := fmt.Sprintf("incident:%d:g%d:page:%d:%d:%s:%s", inc.ID, inc.generation, st.Loop, st.Rule, person, n.Method.Name)
			if _, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: jobPage, Key: key, RunAt: at, MaxAttempts: 8,
				Payload: pagePayload{Incident: inc.ID, Generation: inc.generation, Person: person, Method: n.Method, Loop: st.Loop, Rule: st.Rule}}); err != nil {
				return err
			}
		}
	}
	if p.Index+1 < len(steps) {
		next := p
		next.Index++
		at := steps[next.Index].At.Add(-next.Ahead)
		if paged == 0 && at.After(st.At) {
			// Nobody was paged: waiting out this rule's delay would only
			// delay the next rule's page.
			next.Ahead += at.Sub(st.At)
			at = st.At
			if err := m.addEvent(ctx, tx, inc.ID, st.At, EvEscalation, "",
				fmt.Sprintf("rule %d paged nobody: escalating to the next rule now", st.Rule+1), map[string]any{"loop": st.Loop, "rule": st.Rule}); err != nil {
				return err
			}
		}
		if _, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: jobEscalate, Key: stepKey(inc.ID, inc.generation, next.Index),
			Payload: next, RunAt: at}); err != nil {
			return err
		}
	}
	return nil
}

func targetsText(ts []oncall.Target) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return strings.Join(out, ", ")
}

// runPage delivers one page. It re-reads the incident first and sends
// nothing once it is acknowledged, resolved or re-triggered. Delivery is at
// least once: a crash after the provider accepted the message and before
// the job was recorded done sends it again, with the same delivery id.
func (m *Manager) runPage(ctx context.Context, j engine.Job) error {
	var p pagePayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return engine.Permanent(fmt.Errorf("bad page payload: %w", err))
	}
	inc, err := m.Get(ctx, p.Incident)
	if err != nil {
		return engine.Permanent(err)
	}
	if p.Responder {
		if inc.Status != Triggered && inc.Status != Acknowledged {
			return nil
		}
	} else if inc.Status != Triggered || inc.generation != p.Generation {
		return nil
	}
	set := m.settings()
	msg := m.message(set, inc, p.Person, j)
	if pg := m.pager(p.Method.Type); pg != nil {
		err = pg.Page(ctx, Page{Incident: inc, Person: p.Person, Method: p.Method, Message: msg, DeliveryID: j.Key, Attempt: j.Attempts, RunAt: j.RunAt})
		if !errors.Is(err, ErrNotHandled) {
			m.recordPage(ctx, inc.ID, p, j, err)
			if err != nil {
				var ne *notify.Error
				if engine.IsPermanent(err) || (errors.As(err, &ne) && ne.Permanent) {
					return engine.Permanent(err)
				}
				return err
			}
			m.pageSent(inc.ID, p)
			return nil
		}
	}
	ch, err := channelFor(set, p.Method)
	if err != nil {
		m.recordPage(ctx, inc.ID, p, j, err)
		return engine.Permanent(err)
	}
	err = m.sender.Send(ctx, ch, msg)
	m.recordPage(ctx, inc.ID, p, j, err)
	if err != nil {
		var ne *notify.Error
		if errors.As(err, &ne) && ne.Permanent {
			return engine.Permanent(err)
		}
		return err // a held-back send is requeued for its turn (engine.Deferral)
	}
	m.pageSent(inc.ID, p)
	return nil
}

func (m *Manager) pageSent(id int64, p pagePayload) {
	m.mu.RLock()
	sent := m.sent
	m.mu.RUnlock()
	if sent != nil {
		sent(id, p.Person, p.Method.Name)
	}
}

func channelFor(set Settings, cm oncall.ContactMethod) (notify.Channel, error) {
	switch cm.Type {
	case oncall.ContactSlack:
		if set.SlackWebhookURL == "" {
			return notify.Channel{}, errors.New("no Slack incoming webhook configured (notifications.slack.webhook_url)")
		}
		return notify.Channel{Type: notify.Slack, URL: set.SlackWebhookURL, Mention: cm.Address}, nil
	case oncall.ContactEmail:
		return notify.Channel{Type: notify.Email, To: cm.Address}, nil
	case oncall.ContactWebhook:
		return notify.Channel{Type: notify.Webhook, URL: cm.Address, Secret: set.WebhookSecret}, nil
	case oncall.ContactTeams:
		if set.TeamsWebhookURL == "" {
			return notify.Channel{}, errors.New("no Microsoft Teams webhook configured (notifications.teams.webhook_url_env)")
		}
		return notify.Channel{Type: notify.Teams, URL: set.TeamsWebhookURL, Mention: cm.Address}, nil
	case oncall.ContactMattermost:
		if set.MattermostWebhookURL == "" {
			return notify.Channel{}, errors.New("no Mattermost webhook configured (notifications.mattermost.webhook_url_env)")
		}
		ch := notify.Channel{Type: notify.Mattermost, URL: set.MattermostWebhookURL, Mention: cm.Address}
		if set.MattermostActionSecret != "" && set.BaseURL != "" {
			ch.Secret, ch.ActionURL, ch.ActionTTL = notify.SigningSecret(set.MattermostActionSecret), strings.TrimRight(set.BaseURL, "/")+MattermostActionPath, set.ActionTTL
		}
		return ch, nil
	case oncall.ContactSMS, oncall.ContactVoice:
		return notify.Channel{}, errors.New("no Twilio account configured (notifications.twilio)")
	}
	return notify.Channel{}, fmt.Errorf("unknown contact method type %q", cm.Type)
}

// message builds the page for person, with signed ack/resolve links.
func (m *Manager) message(set Settings, inc Incident, person string, j engine.Job) notify.Message {
	now := m.clock.Now()
	msg := notify.Message{
		DeliveryID: j.Key, Event: "incident.triggered", Title: inc.Title, Text: inc.Summary,
		Severity: inc.Severity, Service: strings.Join(inc.Services, ", "), IncidentID: inc.ID,
		Status: inc.Status, Recipient: person, SentAt: now.UTC(),
	}
	base := strings.TrimRight(set.BaseURL, "/")
	if base != "" {
		msg.URL = fmt.Sprintf("%s/incidents/%d", base, inc.ID)
		if len(set.ActionKey) > 0 {
			ttl := set.ActionTTL
			if ttl <= 0 {
				ttl = 24 * time.Hour
			}
			sg := notify.Signer{Key: set.ActionKey}
			exp := now.Add(ttl)
			msg.AckURL = base + "/api/v1/actions/" + sg.Token(notify.Action{Verb: "ack", IncidentID: inc.ID, Person: person, Expires: exp})
			msg.ResolveURL = base + "/api/v1/actions/" + sg.Token(notify.Action{Verb: "resolve", IncidentID: inc.ID, Person: person, Expires: exp})
		}
	}
	if len(inc.Suspects) > 0 {
		s := inc.Suspects[0]
		msg.Fields = map[string]string{"Suspect": fmt.Sprintf("%s %s of %s", s.Kind, s.Version, s.Service)}
	}
	return msg
}

// recordPage puts one delivery attempt on the timeline, in the transaction
// that records the job's outcome.
func (m *Manager) recordPage(ctx context.Context, id int64, p pagePayload, j engine.Job, sendErr error) {
	now := m.clock.Now()
	kind, msg := EvPage, fmt.Sprintf("paged %s by %s (attempt %d)", p.Person, p.Method.Name, j.Attempts)
	data := map[string]any{"person": p.Person, "method": p.Method.Name, "attempt": j.Attempts, "delivery": j.Key}
	var ne *notify.Error
	switch {
	case errors.As(sendErr, &ne) && ne.HeldFor > 0 && !ne.Attempted():
		// Not an attempt: our rate limit gave it a later turn.
		kind, msg = EvEscalation, fmt.Sprintf("page to %s by %s waits for the %s rate limit: sending in %s",
			p.Person, p.Method.Name, ne.Channel, ne.HeldFor.Round(100*time.Millisecond))
		data = map[string]any{"person": p.Person, "method": p.Method.Name, "held_ms": ne.HeldFor.Milliseconds(), "delivery": j.Key}
	case sendErr != nil:
		kind, msg = EvPageFailed, fmt.Sprintf("page to %s by %s failed (attempt %d): %v", p.Person, p.Method.Name, j.Attempts, sendErr)
	}
	write := func(ctx context.Context, tx *db.Tx) error { return m.addEvent(ctx, tx, id, now, kind, "", msg, data) }
	if engine.OnFinish(ctx, write) {
		return // committed with the job's outcome
	}
	err := m.db.InTx(context.WithoutCancel(ctx), func(tx *db.Tx) error { return write(ctx, tx) })
	if err != nil {
		m.log.Warn("incident: recording page attempt failed", "incident", id, "err", err)
	}
}

// ackTimeout returns the shortest ack timeout of the services (0: none).
func (m *Manager) ackTimeout(ctx context.Context, services []string, now time.Time) (time.Duration, error) {
	if m.Directories == nil {
		return 0, nil
	}
	dir, err := m.Directories.DirectoryAt(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("on-call directory: %w", err)
	}
	var timeout time.Duration
	for _, s := range services {
		if t := dir.AckTimeout(s); t > 0 && (timeout == 0 || t < timeout) {
			timeout = t
		}
	}
	return timeout, nil
}

// scheduleAckTimeout enqueues the re-trigger of an incident acknowledged
// at now, timeout (scaled) later.
func (m *Manager) scheduleAckTimeout(ctx context.Context, tx *db.Tx, inc Incident, now time.Time, timeout time.Duration) error {
	if timeout <= 0 {
		return nil
	}
	_, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: jobAckTimeout,
		Key:     fmt.Sprintf("incident:%d:ack-timeout:%d", inc.ID, db.Millis(now)),
		Payload: map[string]any{"incident": inc.ID, "acked_at": db.Millis(now)},
		RunAt:   now.Add(m.settings().scale(timeout))})
	return err
}

// runAckTimeout re-triggers an incident still acknowledged (by the same
// ack) when its ack timeout runs out, and starts a new escalation.
func (m *Manager) runAckTimeout(ctx context.Context, tx *db.Tx, j engine.Job) error {
	var p struct {
		Incident int64 `json:"incident"`
		AckedAt  int64 `json:"acked_at"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return engine.Permanent(err)
	}
	inc, err := getTx(ctx, tx, p.Incident)
	if err != nil {
		return engine.Permanent(err)
	}
	if inc.Status != Acknowledged || inc.AcknowledgedAt == nil || db.Millis(*inc.AcknowledgedAt) != p.AckedAt {
		return nil
	}
	now := j.RunAt
	inc.generation++
	inc.Status = Triggered
	if _, err := tx.Exec(ctx, `UPDATE incidents SET status = ?, generation = ?, triggered_at = ?, acknowledged_at = 0, updated_at = ? WHERE id = ?`,
		Triggered, inc.generation, db.Millis(now), db.Millis(now), inc.ID); err != nil {
		return err
	}
	if err := m.addEvent(ctx, tx, inc.ID, now, EvStatus, "", "acknowledged → triggered: not resolved within the ack timeout; escalating again",
		map[string]any{"from": Acknowledged, "to": Triggered}); err != nil {
		return err
	}
	if inc.Assignee != "" && m.Directories != nil {
		dir, err := m.Directories.DirectoryAt(ctx, now)
		if err != nil {
			return fmt.Errorf("on-call directory: %w", err)
		}
		return m.pageAssignee(ctx, tx, dir, inc, now)
	}
	return m.startEscalation(ctx, tx, inc, now, nil)
}

// Escalate pages the next rule of the incident's escalation policy now,
// as PagerDuty's "escalate" does: the current escalation stops (a new
// trigger generation starts), an acknowledged incident becomes triggered
// again, and the rule after the last one that fired pages at once, the
// later rules keeping their delays from now. A resolved or closed incident,
// one without a policy, and one whose policy has no rule left are a
// conflict.
func (m *Manager) Escalate(ctx context.Context, id int64, actor string) (Incident, error) {
	now := m.clock.Now()
	if m.Directories == nil {
		return Incident{}, tandem.Errorf(tandem.EConflict, "no on-call directory: nothing to escalate to")
	}
	dir, err := m.Directories.DirectoryAt(ctx, now)
	if err != nil {
		return Incident{}, fmt.Errorf("on-call directory: %w", err)
	}
	err = m.db.InTx(ctx, func(tx *db.Tx) error {
		inc, err := getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if inc.Status != Triggered && inc.Status != Acknowledged {
			return tandem.Errorf(tandem.EConflict, "incident #%d is %s: nothing to escalate", id, inc.Status)
		}
		pol, ok := dir.Policy(inc.Policy)
		if inc.Policy == "" || !ok {
			return tandem.Errorf(tandem.EConflict, "incident #%d has no escalation policy to escalate along", id)
		}
		next := 0
		if last, ok, err := lastStep(ctx, tx, id); err != nil {
			return err
		} else if ok {
			next = last.Loop*len(pol.Rules) + last.Rule + 1
		}
		set := m.settings()
		steps := set.plan(pol, now)
		if next >= len(steps) {
			return tandem.Errorf(tandem.EConflict, "incident #%d has paged every rule of %s: no rule left to escalate to", id, pol.Name)
		}
		inc.generation++
		ms := db.Millis(now)
		if _, err := tx.Exec(ctx, `UPDATE incidents SET status = ?, generation = ?, triggered_at = ?, acknowledged_at = 0, updated_at = ? WHERE id = ?`,
			Triggered, inc.generation, ms, ms, id); err != nil {
			return err
		}
		msg := fmt.Sprintf("escalated by %s: paging loop %d rule %d now", actor, steps[next].Loop+1, steps[next].Rule+1)
		if inc.Status == Acknowledged {
			msg = fmt.Sprintf("acknowledged → triggered: escalated by %s: paging loop %d rule %d now", actor, steps[next].Loop+1, steps[next].Rule+1)
		}
		if err := m.addEvent(ctx, tx, id, now, EvStatus, actor, msg, map[string]any{"from": inc.Status, "to": Triggered, "escalated": true}); err != nil {
			return err
		}
		_, err = engine.Enqueue(ctx, tx, engine.NewJob{Kind: jobEscalate, Key: stepKey(id, inc.generation, next),
			Payload: stepPayload{Incident: id, Generation: inc.generation, Index: next, TriggeredAt: now, Ahead: steps[next].Offset},
			RunAt:   now})
		return err
	})
	if err != nil {
		return Incident{}, err
	}
	m.engine.Wake()
	return m.Get(ctx, id)
}

// lastStep returns the loop and rule of the incident's latest escalation
// step on the timeline.
func lastStep(ctx context.Context, tx *db.Tx, id int64) (oncall.Step, bool, error) {
	rows, err := tx.Query(ctx, `SELECT data FROM incident_events WHERE incident_id = ? AND kind = ? ORDER BY id DESC LIMIT 50`, id, EvEscalation)
	if err != nil {
		return oncall.Step{}, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return oncall.Step{}, false, err
		}
		var d struct {
			Loop *int `json:"loop"`
			Rule *int `json:"rule"`
		}
		if json.Unmarshal([]byte(data), &d) == nil && d.Loop != nil && d.Rule != nil {
			return oncall.Step{Loop: *d.Loop, Rule: *d.Rule}, true, nil
		}
	}
	return oncall.Step{}, false, rows.Err()
}

package chatops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/slack"
	"github.com/tandemhq/tandem/internal/slo"
)

// Action IDs of the buttons on Slack pages.
const (
	ActionAck      = "tandem_ack"
	ActionResolve  = "tandem_resolve"
	ActionEscalate = "tandem_escalate"
)

// Reply is an answer to an inbound webhook: what Slack, Twilio or
// Mattermost reads back.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}

func jsonReply(v any) Reply {
	b, _ := json.Marshal(v)
	return Reply{Status: http.StatusOK, ContentType: "application/json", Body: b}
}

func decodePayload(j engine.Job, v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return engine.Permanent(fmt.Errorf("bad %s payload: %w", j.Kind, err))
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, slack.ErrNotFound) }

// slackErr makes a Slack failure the engine's: permanent ones stop, a 429
// comes back when Slack said.
func slackErr(err error) error {
	var se *slack.Error
	if errors.As(err, &se) && se.Permanent {
		return engine.Permanent(err)
	}
	return err
}

// pageSlack delivers a page by the slack contact method through the app
// (chat.postMessage with buttons), in the configured channel or the
// person's direct message with the app, and records the message so it is
// updated in place. Without a bot token the incoming webhook takes it.
func (s *Service) pageSlack(ctx context.Context, p incident.Page) error {
	set := s.settings()
	if set.SlackBotToken == "" {
		return incident.ErrNotHandled
	}
	member, ok := notify.SlackMemberID(p.Method.Address)
	if !ok {
		return engine.Permanent(fmt.Errorf("slack address %q is not a member ID", p.Method.Address))
	}
	target := set.SlackChannel
	if target == "" {
		target = member
	}
	text, blocks := pageMessage(p.Incident, p.Message, member, "")
	posted, err := s.slack(set).PostMessage(ctx, slack.Message{Channel: target, Text: text, Blocks: blocks})
	if err != nil {
		return slackErr(err)
	}
	now := s.Clock.Now()
	rec := func(ctx context.Context, tx *db.Tx) error {
		return recordMessage(ctx, tx, p.Incident.ID, message{Channel: posted.Channel, TS: posted.TS, Person: p.Person}, now)
	}
	if !engine.OnFinish(ctx, rec) {
		return s.DB.InTx(ctx, func(tx *db.Tx) error { return rec(ctx, tx) })
	}
	return nil
}

func mrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func text(t string) map[string]any { return map[string]any{"type": "mrkdwn", "text": t} }

func button(actionID, label, value, style string) map[string]any {
	b := map[string]any{"type": "button", "action_id": actionID, "text": map[string]any{"type": "plain_text", "text": label}, "value": value}
	if style != "" {
		b["style"] = style
	}
	return b
}

// pageMessage renders an incident page as Block Kit: who it is for, the
// incident, its state line (who acknowledged, when) and the buttons its
// status allows.
func pageMessage(inc incident.Incident, m notify.Message, member, state string) (string, []any) {
	head := fmt.Sprintf("[%s] %s (incident #%d)", strings.ToUpper(inc.Severity), inc.Title, inc.ID)
	fallback := head
	body := "*" + mrkdwn(head) + "*"
	if member != "" {
		fallback = "<@" + member + "> " + head
		body = "<@" + member + "> " + body
	}
	if inc.Summary != "" {
		body += "\n" + mrkdwn(inc.Summary)
	}
	blocks := []any{map[string]any{"type": "section", "text": text(body)}}
	fields := []any{text("*Service*\n" + mrkdwn(strings.Join(inc.Services, ", "))), text("*Status*\n" + inc.Status)}
	if len(inc.Suspects) > 0 {
		sp := inc.Suspects[0]
		fields = append(fields, text(fmt.Sprintf("*Suspect*\n%s %s of %s", sp.Kind, mrkdwn(sp.Version), mrkdwn(sp.Service))))
	}
	blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	if state != "" {
		blocks = append(blocks, map[string]any{"type": "context", "elements": []any{text(state)}})
	}
	id := strconv.FormatInt(inc.ID, 10)
	var buttons []any
	switch inc.Status {
	case incident.Triggered:
		buttons = append(buttons, button(ActionAck, "Acknowledge", id, "primary"), button(ActionResolve, "Resolve", id, ""), button(ActionEscalate, "Escalate", id, "danger"))
	case incident.Acknowledged:
		buttons = append(buttons, button(ActionResolve, "Resolve", id, "primary"), button(ActionEscalate, "Escalate", id, "danger"))
	}
	if m.URL != "" {
		buttons = append(buttons, map[string]any{"type": "button", "action_id": "tandem_open", "text": map[string]any{"type": "plain_text", "text": "Open"}, "url": m.URL})
	}
	if len(buttons) > 0 {
		blocks = append(blocks, map[string]any{"type": "actions", "block_id": "tandem-actions", "elements": buttons})
	}
	return fallback, blocks
}

// stateLine says who last changed the incident's status, and when.
func stateLine(inc incident.Incident, tl []incident.Event) string {
	for i := len(tl) - 1; i >= 0; i-- {
		e := tl[i]
		if e.Kind != incident.EvStatus {
			continue
		}
		to, _ := e.Data["to"].(string)
		who := e.Actor
		if who == "" {
			who = "tandem"
		}
		verb := map[string]string{incident.Acknowledged: "Acknowledged", incident.Resolved: "Resolved", incident.Closed: "Closed", incident.Triggered: "Triggered again"}[to]
		if esc, _ := e.Data["escalated"].(bool); esc {
			verb = "Escalated"
		}
		if verb == "" {
			continue
		}
		return fmt.Sprintf("%s by %s at %s", verb, mrkdwn(who), e.At.UTC().Format("15:04 UTC"))
	}
	return ""
}

// runSlackUpdate re-renders every Slack page of an incident for its state
// now (chat.update), so everyone sees who acknowledged.
func (s *Service) runSlackUpdate(ctx context.Context, j engine.Job) error {
	var p incidentPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	if set.SlackBotToken == "" {
		return nil
	}
	inc, err := s.Incidents.Get(ctx, p.Incident)
	if err != nil {
		return engine.Permanent(err)
	}
	tl, err := s.Incidents.Timeline(ctx, p.Incident)
	if err != nil {
		return err
	}
	msgs, err := s.messages(ctx, p.Incident)
	if err != nil {
		return err
	}
	state := stateLine(inc, tl)
	m := notify.Message{}
	if base := strings.TrimRight(set.BaseURL, "/"); base != "" {
		m.URL = fmt.Sprintf("%s/incidents/%d", base, inc.ID)
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return err
	}
	c := s.slack(set)
	for _, msg := range msgs {
		member, _ := s.slackIDOf(ctx, dir, msg.Person)
		txt, blocks := pageMessage(inc, m, member, state)
		if err := c.UpdateMessage(ctx, slack.Message{Channel: msg.Channel, TS: msg.TS, Text: txt, Blocks: blocks}); err != nil {
			return slackErr(err)
		}
	}
	return nil
}

type ephemeralPayload struct {
	Channel string `json:"channel"`
	User    string `json:"user"`
	Text    string `json:"text"`
}

func (s *Service) runSlackEphemeral(ctx context.Context, j engine.Job) error {
	var p ephemeralPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	if set.SlackBotToken == "" {
		return nil
	}
	return slackErr(s.slack(set).PostEphemeral(ctx, p.Channel, p.User, p.Text))
}

// verifySlack checks a request's signature with the live signing secret.
func (s *Service) verifySlack(h http.Header, body []byte) (Settings, error) {
	set := s.settings()
	if set.SlackBotToken == "" || set.SlackSigningSecret == "" {
		return set, tandem.Errorf(tandem.EForbidden, "the Slack app is not configured (notifications.slack.bot_token_env and signing_secret_env)")
	}
	var err error
	for i, sec := range notify.Secrets(set.SlackSigningSecret) {
		e := slack.Verify(sec, h, body, s.Clock.Now())
		if e == nil {
			return set, nil
		}
		if i == 0 {
			err = e
		}
	}
	if err == nil {
		err = slack.ErrNoSignature
	}
	return set, tandem.Errorf(tandem.EUnauthorized, "%v", err)
}

// HandleInteraction answers a button click from Slack: it verifies the
// signature, maps the Slack user to a person and acknowledges, resolves or
// escalates the incident as that person. The message is updated by the
// job the status change enqueues. An unknown user changes nothing and is
// told so (an ephemeral message).
func (s *Service) HandleInteraction(ctx context.Context, h http.Header, body []byte) (Reply, error) {
	if _, err := s.verifySlack(h, body); err != nil {
		return Reply{}, err
	}
	in, err := slack.ParseInteraction(body)
	if err != nil {
		return Reply{}, tandem.Errorf(tandem.EInvalid, "%v", err)
	}
	a := in.Actions[0]
	verb := map[string]string{ActionAck: "ack", ActionResolve: "resolve", ActionEscalate: "escalate"}[a.ActionID]
	if verb == "" {
		return Reply{Status: http.StatusOK}, nil // the Open link button, or another app's
	}
	id, err := strconv.ParseInt(a.Value, 10, 64)
	if err != nil || id <= 0 {
		return Reply{}, tandem.FieldErrorf("actions[0].value", "want an incident number, got %q", a.Value)
	}
	channel, _ := in.MessageRef()
	person, ok, err := s.personBySlackID(ctx, in.User.ID)
	if err != nil {
		return Reply{}, err
	}
	if !ok {
		s.Log.Info("slack: button from a user no person maps to; nothing changed", "slack_user", in.User.ID, "incident", id)
		return Reply{Status: http.StatusOK}, s.enqueueNow(ctx, JobSlackEphemeral, "chatops:slack:ephemeral:"+in.User.ID+":"+a.ActionTS+":"+in.TriggerID,
			ephemeralPayload{Channel: channel, User: in.User.ID, Text: "tandem does not know who you are: add your Slack member ID (" + in.User.ID + ") to your person in the catalog. Nothing was changed."})
	}
	msg, err := s.act(ctx, verb, id, person+" (slack)")
	if err != nil {
		return Reply{}, err
	}
	if msg != "" && channel != "" {
		// Already done by someone else: say so to the clicker alone.
		return Reply{Status: http.StatusOK}, s.enqueueNow(ctx, JobSlackEphemeral, "chatops:slack:ephemeral:"+in.User.ID+":"+a.ActionTS+":"+in.TriggerID,
			ephemeralPayload{Channel: channel, User: in.User.ID, Text: msg})
	}
	return Reply{Status: http.StatusOK}, nil
}

// act acknowledges, resolves or escalates as actor. A conflict (already in
// that state) is not an error: it returns a message saying so.
func (s *Service) act(ctx context.Context, verb string, id int64, actor string) (string, error) {
	var err error
	switch verb {
	case "ack":
		_, err = s.Incidents.Ack(ctx, id, actor)
	case "resolve":
		_, err = s.Incidents.Resolve(ctx, id, actor, "")
	case "escalate":
		_, err = s.Incidents.Escalate(ctx, id, actor)
	default:
		return "", tandem.Errorf(tandem.EInvalid, "unknown action %q", verb)
	}
	var te *tandem.Error
	if errors.As(err, &te) && (te.Code == tandem.EConflict || te.Code == tandem.ENotFound) {
		return te.Message, nil
	}
	return "", err
}

// HandleCommand answers /tandem: who [schedule], incident declare <sev>
// <service> <title>, ack <id>, resolve <id>, status <service>.
func (s *Service) HandleCommand(ctx context.Context, h http.Header, body []byte) (Reply, error) {
	if _, err := s.verifySlack(h, body); err != nil {
		return Reply{}, err
	}
	cmd, err := slack.ParseCommand(body)
	if err != nil {
		return Reply{}, tandem.Errorf(tandem.EInvalid, "%v", err)
	}
	txt, public, err := s.command(ctx, cmd)
	if err != nil {
		return Reply{}, err
	}
	kind := "ephemeral"
	if public {
		kind = "in_channel"
	}
	return jsonReply(map[string]any{"response_type": kind, "text": txt}), nil
}

const commandUsage = "Usage: `/tandem who [schedule]` · `/tandem incident declare <sev1..sev4> <service> <title>` · `/tandem ack <id>` · `/tandem resolve <id>` · `/tandem status <service>`"

// command runs one /tandem command and returns its answer and whether the
// channel should see it.
func (s *Service) command(ctx context.Context, c slack.Command) (string, bool, error) {
	args := strings.Fields(c.Text)
	if len(args) == 0 {
		return commandUsage, false, nil
	}
	now := s.Clock.Now()
	switch strings.ToLower(args[0]) {
	case "who":
		return s.who(ctx, args[1:], now)
	case "status":
		if len(args) != 2 {
			return "Usage: `/tandem status <service>`", false, nil
		}
		return s.serviceStatus(ctx, args[1], now)
	case "ack", "resolve":
		if len(args) != 2 {
			return "Usage: `/tandem " + strings.ToLower(args[0]) + " <incident id>`", false, nil
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(args[1], "#"), 10, 64)
		if err != nil || id <= 0 {
			return "Not an incident number: `" + mrkdwn(args[1]) + "`", false, nil
		}
		person, ok, err := s.personBySlackID(ctx, c.UserID)
		if err != nil {
			return "", false, err
		}
		if !ok {
			return "tandem does not know who you are (Slack member ID " + c.UserID + "): nothing was changed.", false, nil
		}
		msg, err := s.act(ctx, strings.ToLower(args[0]), id, person+" (slack)")
		if err != nil {
			return "", false, err
		}
		if msg != "" {
			return msg, false, nil
		}
		verb := map[string]string{"ack": "acknowledged", "resolve": "resolved"}[strings.ToLower(args[0])]
		return fmt.Sprintf("Incident #%d %s by %s.", id, verb, person), true, nil
	case "incident":
		if len(args) < 2 || strings.ToLower(args[1]) != "declare" {
			return "Usage: `/tandem incident declare <sev1..sev4> <service> <title>`", false, nil
		}
		return s.declare(ctx, c, args[2:])
	}
	return "Unknown command `" + mrkdwn(args[0]) + "`. " + commandUsage, false, nil
}

func (s *Service) who(ctx context.Context, args []string, now time.Time) (string, bool, error) {
	dir, err := s.directory(ctx)
	if err != nil {
		return "", false, err
	}
	scheds := dir.Schedules()
	if len(args) > 0 {
		name := strings.Join(args, " ")
		sc, ok := dir.Schedule(name)
		if !ok {
			return fmt.Sprintf("No schedule `%s`. Schedules: %s", mrkdwn(name), strings.Join(dir.ScheduleNames(), ", ")), false, nil
		}
		scheds = scheds[:0]
		scheds = append(scheds, sc)
	}
	if len(scheds) == 0 {
		return "No on-call schedules are configured.", false, nil
	}
	var b strings.Builder
	b.WriteString("*On call now*\n")
	for _, sc := range scheds {
		who := sc.Who(now)
		names := "nobody"
		if len(who) > 0 {
			var ms []string
			for _, p := range who {
				if id, ok := s.slackIDOf(ctx, dir, p); ok {
					ms = append(ms, "<@"+id+">")
				} else {
					ms = append(ms, mrkdwn(p))
				}
			}
			names = strings.Join(ms, ", ")
		}
		fmt.Fprintf(&b, "• %s: %s\n", mrkdwn(sc.Name), names)
	}
	return strings.TrimRight(b.String(), "\n"), false, nil
}

func (s *Service) declare(ctx context.Context, c slack.Command, args []string) (string, bool, error) {
	const usage = "Usage: `/tandem incident declare <sev1..sev4> <service> <title>`"
	if len(args) < 3 {
		return usage, false, nil
	}
	sev, ok := incident.ParseSeverity(args[0])
	if !ok {
		return "Not a severity: `" + mrkdwn(args[0]) + "` (sev1 … sev4). " + usage, false, nil
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return "", false, err
	}
	svc := args[1]
	if _, ok := dir.Catalog().Service(svc); !ok {
		return fmt.Sprintf("No service `%s`. Services: %s. %s", mrkdwn(svc), strings.Join(dir.Catalog().ServiceNames(), ", "), usage), false, nil
	}
	person, ok, err := s.personBySlackID(ctx, c.UserID)
	if err != nil {
		return "", false, err
	}
	if !ok {
		return "tandem does not know who you are (Slack member ID " + c.UserID + "): nothing was declared.", false, nil
	}
	inc, err := s.Incidents.Open(ctx, incident.OpenInput{Title: strings.Join(args[2:], " "), Services: []string{svc}, Severity: sev,
		Actor: person + " (slack)", Source: "slack", Commander: person})
	if err != nil {
		var te *tandem.Error
		if errors.As(err, &te) && te.Code != tandem.EInternal {
			return te.Message, false, nil
		}
		return "", false, err
	}
	return fmt.Sprintf("Incident #%d declared by %s: [%s] %s on %s.", inc.ID, mrkdwn(person), strings.ToUpper(inc.Severity), mrkdwn(inc.Title), mrkdwn(svc)), true, nil
}

// serviceStatus is a service's SLOs, budgets, freeze and recent deploys.
// An SLO without data says so: no number stands in for it.
func (s *Service) serviceStatus(ctx context.Context, svc string, now time.Time) (string, bool, error) {
	dir, err := s.directory(ctx)
	if err != nil {
		return "", false, err
	}
	if _, ok := dir.Catalog().Service(svc); !ok {
		return fmt.Sprintf("No service `%s`. Services: %s", mrkdwn(svc), strings.Join(dir.Catalog().ServiceNames(), ", ")), false, nil
	}
	return s.statusText(ctx, svc, now), false, nil
}

// statusText renders a service's SLO status and budget, freeze and recent
// deploys in mrkdwn.
func (s *Service) statusText(ctx context.Context, svc string, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n", mrkdwn(svc))
	if s.SLOs == nil {
		b.WriteString("SLOs: not evaluated on this server\n")
	} else if sts, err := s.SLOs.StatusAll(ctx, now); err != nil {
		fmt.Fprintf(&b, "SLOs: unavailable (%s)\n", mrkdwn(err.Error()))
	} else {
		n := 0
		for _, st := range sts {
			if st.Service != svc {
				continue
			}
			n++
			b.WriteString("• " + sloLine(st) + "\n")
		}
		if n == 0 {
			b.WriteString("SLOs: none defined\n")
		}
		if fr := s.SLOs.FreezeAt(ctx, svc, now); fr.Active {
			fmt.Fprintf(&b, "Release freeze: *on* (%s)\n", mrkdwn(fr.Reason))
		} else {
			b.WriteString("Release freeze: off\n")
		}
	}
	if s.Changes != nil {
		evs, err := s.Changes.List(ctx, change.Filter{Services: []string{svc}, Kinds: []string{change.KindDeploy, change.KindRollback}, Since: now.Add(-7 * 24 * time.Hour), Limit: 3})
		switch {
		case err != nil:
			fmt.Fprintf(&b, "Recent deploys: unavailable (%s)\n", mrkdwn(err.Error()))
		case len(evs) == 0:
			b.WriteString("Recent deploys: none in 7 days\n")
		default:
			b.WriteString("Recent deploys:\n")
			for _, e := range evs {
				fmt.Fprintf(&b, "• %s %s %s (%s)\n", e.At().UTC().Format("01-02 15:04"), e.Kind, mrkdwn(e.Version), e.Status)
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// sloLine is one SLO's status: the SLI, objective and budget left, or
// what is missing instead of numbers.
func sloLine(st slo.Status) string {
	switch {
	case st.Error != "":
		return fmt.Sprintf("%s: no data (%s)", mrkdwn(st.Name), mrkdwn(st.Error))
	case st.Status == slo.StatusNoData || st.SLI == nil || st.ErrorBudget.Remaining == nil:
		return fmt.Sprintf("%s: no data in its %s window (objective %s)", mrkdwn(st.Name), st.Window, pct(st.Objective))
	}
	return fmt.Sprintf("%s: %s (objective %s), error budget %s left — %s", mrkdwn(st.Name), pct(*st.SLI), pct(st.Objective),
		pct(*st.ErrorBudget.Remaining), st.Status)
}

func pct(f float64) string {
	s := strconv.FormatFloat(f*100, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// HandleEvents answers the Events API: the url_verification challenge,
// notes taken from incident channel messages that start with the note
// prefix, and link_shared events (previews are built by a job). A delivery
// Slack retries is handled once.
func (s *Service) HandleEvents(ctx context.Context, h http.Header, body []byte) (Reply, error) {
	set, err := s.verifySlack(h, body)
	if err != nil {
		return Reply{}, err
	}
	env, err := slack.ParseEvents(body)
	if err != nil {
		return Reply{}, tandem.Errorf(tandem.EInvalid, "%v", err)
	}
	switch env.Type {
	case slack.TypeURLVerification:
		return jsonReply(map[string]string{"challenge": env.Challenge}), nil
	case slack.TypeAppRateLimited:
		s.Log.Warn("slack: event deliveries to tandem are being rate limited by Slack")
		return Reply{Status: http.StatusOK}, nil
	}
	now := s.Clock.Now()
	if env.EventID != "" {
		first, err := s.firstDelivery(ctx, env.EventID, now)
		if err != nil {
			return Reply{}, err
		}
		if !first {
			return Reply{Status: http.StatusOK}, nil
		}
	}
	ev := env.Event
	switch ev.Type {
	case "message":
		return Reply{Status: http.StatusOK}, s.note(ctx, set, ev, now)
	case "link_shared":
		return Reply{Status: http.StatusOK}, s.unfurlLater(ctx, set, env.EventID, ev)
	}
	return Reply{Status: http.StatusOK}, nil
}

// note records a message of an incident channel that starts with the note
// prefix as a note on the incident's timeline.
func (s *Service) note(ctx context.Context, set Settings, ev slack.Event, now time.Time) error {
	if ev.Subtype != "" || ev.BotID != "" || ev.User == "" || set.Channels.MinSeverity == "" {
		return nil // edits, joins, bots (tandem's own mirror among them)
	}
	prefix := set.Channels.NotePrefix
	txt := strings.TrimSpace(slack.Unescape(ev.Text))
	if !strings.HasPrefix(strings.ToLower(txt), strings.ToLower(prefix)) {
		return nil
	}
	txt = strings.TrimSpace(txt[len(prefix):])
	if txt == "" {
		return nil
	}
	id, ok, err := s.incidentOfChannel(ctx, ev.Channel)
	if err != nil || !ok {
		return err
	}
	actor := "slack:" + ev.User
	if p, ok, err := s.personBySlackID(ctx, ev.User); err != nil {
		return err
	} else if ok {
		actor = p + " (slack)"
	}
	if len(txt) > 10000 {
		txt = txt[:10000]
	}
	return s.Incidents.RecordEvent(ctx, id, incident.Event{At: now, Kind: incident.EvNote, Actor: actor, Message: txt,
		Data: map[string]any{"source": "slack", "slack_channel": ev.Channel, "slack_ts": ev.TS}})
}

type unfurlPayload struct {
	Channel string   `json:"channel"`
	TS      string   `json:"ts"`
	URLs    []string `json:"urls"`
}

// unfurlLater enqueues the preview of the shared links that point at this
// tandem's pages.
func (s *Service) unfurlLater(ctx context.Context, set Settings, eventID string, ev slack.Event) error {
	base, err := url.Parse(set.BaseURL)
	if err != nil || base.Host == "" || ev.Channel == "" || ev.MessageTS == "" {
		return nil
	}
	var urls []string
	for _, l := range ev.Links {
		if u, err := url.Parse(l.URL); err == nil && strings.EqualFold(u.Host, base.Host) && (serviceOf(u.Path) != "" || incidentOf(u.Path) != 0) {
			urls = append(urls, l.URL)
		}
	}
	if len(urls) == 0 {
		return nil
	}
	sort.Strings(urls)
	return s.enqueueNow(ctx, JobSlackUnfurl, "chatops:slack:unfurl:"+ev.Channel+":"+ev.MessageTS+":"+eventID, unfurlPayload{Channel: ev.Channel, TS: ev.MessageTS, URLs: urls})
}

func serviceOf(path string) string {
	if rest, ok := strings.CutPrefix(path, "/services/"); ok && rest != "" && !strings.Contains(rest, "/") {
		if v, err := url.PathUnescape(rest); err == nil {
			return v
		}
	}
	return ""
}

func incidentOf(path string) int64 {
	if rest, ok := strings.CutPrefix(path, "/incidents/"); ok {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil && id > 0 {
			return id
		}
	}
	return 0
}

// runSlackUnfurl gives Slack the previews: a service link shows its SLO
// status and budget, an incident link its title and status.
func (s *Service) runSlackUnfurl(ctx context.Context, j engine.Job) error {
	var p unfurlPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	if set.SlackBotToken == "" {
		return nil
	}
	now := s.Clock.Now()
	dir, err := s.directory(ctx)
	if err != nil {
		return err
	}
	unfurls := map[string]any{}
	for _, raw := range p.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		var body string
		if svc := serviceOf(u.Path); svc != "" {
			if _, ok := dir.Catalog().Service(svc); !ok {
				continue
			}
			body = s.statusText(ctx, svc, now)
		} else if id := incidentOf(u.Path); id != 0 {
			inc, err := s.Incidents.Get(ctx, id)
			if err != nil {
				continue
			}
			body = fmt.Sprintf("*[%s] %s* (incident #%d)\n%s on %s since %s", strings.ToUpper(inc.Severity), mrkdwn(inc.Title), inc.ID,
				inc.Status, mrkdwn(strings.Join(inc.Services, ", ")), inc.StartedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		if body == "" {
			continue
		}
		unfurls[raw] = map[string]any{"blocks": []any{map[string]any{"type": "section", "text": text(body)}}}
	}
	if len(unfurls) == 0 {
		return nil
	}
	return slackErr(s.slack(set).Unfurl(ctx, p.Channel, p.TS, unfurls))
}

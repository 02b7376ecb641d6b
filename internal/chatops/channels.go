package chatops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/slack"
)

// LinkSlackChannel is the incident link that holds its channel's history
// (the postmortem lists the incident's links).
const LinkSlackChannel = "slack_channel"

// channelEvent, in the transaction of a timeline entry, opens the
// incident's channel when the incident reaches the configured severity,
// mirrors the entry into an open channel, and schedules the archive
// archive_after the incident is resolved (or closed, when it was closed
// without a resolve).
func (s *Service) channelEvent(ctx context.Context, tx *db.Tx, set Settings, ev incident.Event, now time.Time) error {
	c, ok, err := channelOf(ctx, tx, ev.IncidentID)
	if err != nil {
		return err
	}
	if ok {
		if c.Archived {
			return nil
		}
		if src, _ := ev.Data["source"].(string); ev.ID > c.MirroredThrough && src != "slack" {
			if err := enqueue(ctx, tx, JobSlackMirror, fmt.Sprintf("chatops:slack:mirror:%d:%d", ev.IncidentID, ev.ID),
				eventPayload{Incident: ev.IncidentID, Event: ev.ID}, now, 0); err != nil {
				return err
			}
		}
		if to, _ := ev.Data["to"].(string); ev.Kind == incident.EvStatus && (to == incident.Resolved || to == incident.Closed) {
			return enqueue(ctx, tx, JobSlackArchive, fmt.Sprintf("chatops:slack:archive:%d", ev.IncidentID),
				incidentPayload{Incident: ev.IncidentID}, now.Add(set.Channels.ArchiveAfter), 0)
		}
		return nil
	}
	if ev.Kind != incident.EvOpened && ev.Kind != incident.EvUpdate {
		return nil
	}
	inc, err := s.Incidents.GetTx(ctx, tx, ev.IncidentID)
	if err != nil {
		return err
	}
	if sevRank(inc.Severity) > sevRank(set.Channels.MinSeverity) || inc.Status == incident.Resolved || inc.Status == incident.Closed {
		return nil
	}
	return enqueue(ctx, tx, JobSlackChannel, fmt.Sprintf("chatops:slack:channel:%d", ev.IncidentID), incidentPayload{Incident: ev.IncidentID}, now, 0)
}

// runSlackChannel opens an incident's channel: it creates the channel
// (conversations.create, the name from the template; a taken name gets a
// suffix), records it (entries stored from then on are mirrored), posts
// the incident with its suspects and the SLO status of its services,
// invites the responders and the people on call, and links the channel on
// the incident. Delivery is at least once: a crash between creating and
// recording the channel leaves that channel behind, and the retry opens
// another.
func (s *Service) runSlackChannel(ctx context.Context, j engine.Job) error {
	var p incidentPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	if set.SlackBotToken == "" || set.Channels.MinSeverity == "" {
		return nil
	}
	inc, err := s.Incidents.Get(ctx, p.Incident)
	if err != nil {
		return engine.Permanent(err)
	}
	cl := s.slack(set)
	c, ok, err := channelOf(ctx, s.DB, inc.ID)
	if err != nil {
		return err
	}
	if !ok {
		if inc.Status == incident.Resolved || inc.Status == incident.Closed {
			return nil // over before its channel opened
		}
		if c, err = s.createChannel(ctx, cl, set, inc); err != nil {
			return err
		}
	}
	if c.Archived {
		return nil
	}
	if _, err := cl.PostMessage(ctx, slack.Message{Channel: c.ID, Text: fmt.Sprintf("Incident #%d: %s", inc.ID, inc.Title), Blocks: s.introBlocks(ctx, set, inc)}); err != nil {
		return slackErr(err)
	}
	ids, err := s.channelPeople(ctx, set, inc)
	if err != nil {
		return err
	}
	if err := cl.Invite(ctx, c.ID, ids); err != nil {
		return slackErr(err)
	}
	if c.URL != "" && inc.Links[LinkSlackChannel] != c.URL {
		if _, err := s.Incidents.Update(ctx, inc.ID, "slack", incident.Update{Links: map[string]string{LinkSlackChannel: c.URL}}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) createChannel(ctx context.Context, cl *slack.Client, set Settings, inc incident.Incident) (channel, error) {
	ident, err := cl.AuthTest(ctx)
	if err != nil {
		return channel{}, slackErr(err)
	}
	svc := "incident"
	if len(inc.Services) > 0 {
		svc = inc.Services[0]
	}
	name := set.Channels.NameFunc(set.Channels.Name, inc.ID, svc, inc.Severity)
	var conv slack.Conversation
	for i := 1; ; i++ {
		try := name
		if i > 1 {
			try = fmt.Sprintf("%s-%d", name, i)
		}
		conv, err = cl.CreateConversation(ctx, try, set.Channels.Private)
		var se *slack.Error
		if errors.As(err, &se) && se.Code == "name_taken" && i < 5 {
			continue
		}
		if err != nil {
			return channel{}, slackErr(err)
		}
		break
	}
	c := channel{Incident: inc.ID, ID: conv.ID, Name: conv.Name, URL: slack.ChannelURL(ident.URL, conv.ID)}
	now := s.Clock.Now()
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		// Entries stored until the channel is recorded are summed up by the
		// introduction; every later one is mirrored.
		if c.MirroredThrough, err = maxEventID(ctx, tx, inc.ID); err != nil {
			return err
		}
		return recordChannel(ctx, tx, c, now)
	})
	if err != nil {
		return channel{}, fmt.Errorf("record channel %s of incident %d: %w", conv.ID, inc.ID, err)
	}
	return c, nil
}

// channelPeople are the Slack member IDs to invite: the people paged for
// the incident, its commander, everyone its escalation policy's rules
// reach now, and the configured extra members.
func (s *Service) channelPeople(ctx context.Context, set Settings, inc incident.Incident) ([]string, error) {
	dir, err := s.directory(ctx)
	if err != nil {
		return nil, err
	}
	tl, err := s.Incidents.Timeline(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	var people []string
	add := func(p string) {
		for _, q := range people {
			if q == p {
				return
			}
		}
		people = append(people, p)
	}
	for _, e := range tl {
		if e.Kind == incident.EvPage {
			if p, _ := e.Data["person"].(string); p != "" {
				add(p)
			}
		}
	}
	if inc.Commander != "" {
		add(inc.Commander)
	}
	if pol, ok := dir.Policy(inc.Policy); ok {
		for _, r := range pol.Rules {
			for _, p := range dir.ResolveAll(r.Targets, s.Clock.Now()) {
				add(p)
			}
		}
	}
	var ids []string
	seen := map[string]bool{}
	for _, p := range people {
		if id, ok := s.slackIDOf(ctx, dir, p); ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, id := range set.Channels.Invite {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// introBlocks introduce the incident in its channel: what, where, who,
// the suspects and the SLO status of its services.
func (s *Service) introBlocks(ctx context.Context, set Settings, inc incident.Incident) []any {
	head := fmt.Sprintf("*[%s] %s* (incident #%d)\nServices: %s · status %s", strings.ToUpper(inc.Severity), mrkdwn(inc.Title), inc.ID,
		mrkdwn(strings.Join(inc.Services, ", ")), inc.Status)
	if inc.Commander != "" {
		head += " · commander " + mrkdwn(inc.Commander)
	}
	if base := strings.TrimRight(set.BaseURL, "/"); base != "" {
		head += fmt.Sprintf("\n<%s/incidents/%d|Open in tandem>", base, inc.ID)
	}
	blocks := []any{map[string]any{"type": "section", "text": text(head)}}
	sus := "*Suspects*: none in the two hours before impact"
	if len(inc.Suspects) > 0 {
		var lines []string
		for _, sp := range inc.Suspects {
			lines = append(lines, fmt.Sprintf("• %s %s of %s at %s (%s)", sp.Kind, mrkdwn(sp.Version), mrkdwn(sp.Service), sp.At.UTC().Format("15:04 UTC"), sp.Status))
		}
		sus = "*Suspects*\n" + strings.Join(lines, "\n")
	}
	blocks = append(blocks, map[string]any{"type": "section", "text": text(sus)})
	now := s.Clock.Now()
	for _, svc := range inc.Services {
		blocks = append(blocks, map[string]any{"type": "section", "text": text(s.statusText(ctx, svc, now))})
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []any{
		text("Every timeline entry is mirrored here. Start a message with `" + mrkdwn(set.Channels.NotePrefix) + "` to put it on the timeline.")}})
	return blocks
}

// runSlackMirror posts one timeline entry into the incident's channel.
func (s *Service) runSlackMirror(ctx context.Context, j engine.Job) error {
	var p eventPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	if set.SlackBotToken == "" {
		return nil
	}
	c, ok, err := channelOf(ctx, s.DB, p.Incident)
	if err != nil || !ok || c.Archived {
		return err
	}
	tl, err := s.Incidents.Timeline(ctx, p.Incident)
	if err != nil {
		return err
	}
	for _, e := range tl {
		if e.ID != p.Event {
			continue
		}
		_, err := s.slack(set).PostMessage(ctx, slack.Message{Channel: c.ID, Text: mirrorText(e), UnfurlLinks: new(bool)})
		return slackErr(err)
	}
	return nil
}

// mirrorText renders a timeline entry for the channel.
func mirrorText(e incident.Event) string {
	at := e.At.UTC().Format("15:04:05")
	if u, ok := incident.StatusUpdateOf(e); ok {
		return fmt.Sprintf("`%s` :mega: *Status update: %s*\n%s", at, u.Status, mrkdwn(u.Message))
	}
	who := ""
	if e.Actor != "" {
		who = " (" + mrkdwn(e.Actor) + ")"
	}
	return fmt.Sprintf("`%s` *%s*%s %s", at, e.Kind, who, mrkdwn(e.Message))
}

// runSlackArchive archives a resolved or closed incident's channel.
func (s *Service) runSlackArchive(ctx context.Context, j engine.Job) error {
	var p incidentPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	if set.SlackBotToken == "" {
		return nil
	}
	c, ok, err := channelOf(ctx, s.DB, p.Incident)
	if err != nil || !ok || c.Archived {
		return err
	}
	if err := s.slack(set).Archive(ctx, c.ID); err != nil {
		return slackErr(err)
	}
	return s.markArchived(ctx, p.Incident, s.Clock.Now())
}

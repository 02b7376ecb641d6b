package notify

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// TeamsMessage is the body posted to a Microsoft Teams Workflows (or
// legacy incoming) webhook: a message with one Adaptive Card attachment.
type TeamsMessage struct {
	Type        string            `json:"type"`
	Attachments []TeamsAttachment `json:"attachments"`
}

// TeamsAttachment carries an Adaptive Card.
type TeamsAttachment struct {
	ContentType string         `json:"contentType"`
	ContentURL  *string        `json:"contentUrl"`
	Content     map[string]any `json:"content"`
}

// TeamsPayload renders m as an Adaptive Card (schema version 1.4, which
// Teams webhooks render) whose buttons open the signed acknowledge and
// resolve links. mention, when set, is the person's Teams sign-in (an email
// address, their user principal name): the card mentions them with
// <at>…</at>, the only form Teams notifies anyone for.
func TeamsPayload(m Message, mention string) TeamsMessage {
	head := m.Title
	if m.Severity != "" {
		head = fmt.Sprintf("[%s] %s", strings.ToUpper(m.Severity), head)
	}
	if m.IncidentID != 0 {
		head = fmt.Sprintf("%s (incident #%d)", head, m.IncidentID)
	}
	body := []any{}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
	}
	if mention = strings.TrimSpace(mention); mention != "" {
		at := "<at>" + mention + "</at>"
		body = append(body, map[string]any{"type": "TextBlock", "text": at, "wrap": true})
		card["msteams"] = map[string]any{"entities": []any{map[string]any{
			"type": "mention", "text": at, "mentioned": map[string]any{"id": mention, "name": mention}}}}
	}
	body = append(body, map[string]any{"type": "TextBlock", "text": head, "weight": "Bolder", "size": "Medium", "wrap": true})
	if m.Text != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": m.Text, "wrap": true})
	}
	var facts []any
	if m.Service != "" {
		facts = append(facts, map[string]any{"title": "Service", "value": m.Service})
	}
	if m.Status != "" {
		facts = append(facts, map[string]any{"title": "Status", "value": m.Status})
	}
	for _, k := range sortedKeys(m.Fields) {
		facts = append(facts, map[string]any{"title": k, "value": m.Fields[k]})
	}
	if len(facts) > 0 {
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	card["body"] = body
	var actions []any
	for _, a := range []struct{ title, url string }{{"Acknowledge", m.AckURL}, {"Resolve", m.ResolveURL}, {"Open", m.URL}} {
		if a.url != "" {
			actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": a.title, "url": a.url})
		}
	}
	if len(actions) > 0 {
		card["actions"] = actions
	}
	return TeamsMessage{Type: "message", Attachments: []TeamsAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MattermostMessage is the body posted to a Mattermost incoming webhook:
// text and message attachments, whose actions are interactive buttons.
type MattermostMessage struct {
	Text        string                 `json:"text"`
	Attachments []MattermostAttachment `json:"attachments,omitempty"`
}

// MattermostAttachment is a Slack-style message attachment.
type MattermostAttachment struct {
	Fallback  string             `json:"fallback"`
	Color     string             `json:"color,omitempty"`
	Title     string             `json:"title,omitempty"`
	TitleLink string             `json:"title_link,omitempty"`
	Text      string             `json:"text,omitempty"`
	Fields    []MattermostField  `json:"fields,omitempty"`
	Actions   []MattermostAction `json:"actions,omitempty"`
}

// MattermostField is one short field of an attachment.
type MattermostField struct {
	Short bool   `json:"short"`
	Title string `json:"title"`
	Value string `json:"value"`
}

// MattermostAction is an interactive button: Mattermost posts the
// integration's context to its URL when someone clicks it.
type MattermostAction struct {
	ID          string                `json:"id"`
	Type        string                `json:"type"`
	Name        string                `json:"name"`
	Style       string                `json:"style,omitempty"`
	Integration MattermostIntegration `json:"integration"`
}

// MattermostIntegration is where a button posts, with what context.
// Mattermost keeps the context on the server (it is stripped from posts
// sent to clients), so a signed token in it proves a click came from a
// message tandem posted.
type MattermostIntegration struct {
	URL     string         `json:"url"`
	Context map[string]any `json:"context"`
}

var sevColor = map[string]string{"sev1": "#d32f2f", "sev2": "#f57c00", "sev3": "#fbc02d", "sev4": "#1976d2"}

// MattermostPayload renders m for a Mattermost incoming webhook. mention,
// when set, is the person's Mattermost username (@alice). actionURL and
// key, when both set, add Acknowledge and Resolve buttons posting to
// actionURL with a token signed by key (see Signer) that names the
// incident and verb and expires with the action links.
func MattermostPayload(m Message, mention, actionURL string, key []byte, ttl time.Duration) MattermostMessage {
	head := m.Title
	if m.Severity != "" {
		head = fmt.Sprintf("[%s] %s", strings.ToUpper(m.Severity), head)
	}
	if m.IncidentID != 0 {
		head = fmt.Sprintf("%s (incident #%d)", head, m.IncidentID)
	}
	text := head
	if mention = strings.TrimPrefix(strings.TrimSpace(mention), "@"); mention != "" {
		text = "@" + mention + " " + head
	}
	att := MattermostAttachment{Fallback: text, Color: sevColor[m.Severity], Title: head, TitleLink: m.URL, Text: m.Text}
	if m.Service != "" {
		att.Fields = append(att.Fields, MattermostField{Short: true, Title: "Service", Value: m.Service})
	}
	if m.Status != "" {
		att.Fields = append(att.Fields, MattermostField{Short: true, Title: "Status", Value: m.Status})
	}
	for _, k := range sortedKeys(m.Fields) {
		att.Fields = append(att.Fields, MattermostField{Short: true, Title: k, Value: m.Fields[k]})
	}
	if actionURL != "" && len(key) > 0 && m.IncidentID != 0 {
		if ttl <= 0 {
			ttl = 24 * time.Hour
		}
		sg := Signer{Key: key}
		exp := m.SentAt.Add(ttl)
		for _, a := range []struct{ id, name, verb, style string }{{"ack", "Acknowledge", "ack", "primary"}, {"resolve", "Resolve", "resolve", "good"}} {
			tok := sg.Token(Action{Verb: a.verb, IncidentID: m.IncidentID, Person: m.Recipient, Expires: exp})
			att.Actions = append(att.Actions, MattermostAction{ID: a.id, Type: "button", Name: a.name, Style: a.style,
				Integration: MattermostIntegration{URL: actionURL, Context: map[string]any{"token": tok}}})
		}
	}
	return MattermostMessage{Text: text, Attachments: []MattermostAttachment{att}}
}

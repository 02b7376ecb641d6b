package notify

import (
	"fmt"
	"sort"
	"strings"
)

// SlackMessage is the body posted to a Slack incoming webhook: a fallback
// text and Block Kit blocks.
type SlackMessage struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks"`
}

// SlackBlock is one Block Kit block (section, context or actions).
type SlackBlock struct {
	Type     string         `json:"type"`
	Text     *SlackText     `json:"text,omitempty"`
	Fields   []SlackText    `json:"fields,omitempty"`
	Elements []SlackElement `json:"elements,omitempty"`
}

// SlackText is a Block Kit text object.
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// SlackElement is a Block Kit element: a link button or a context text.
type SlackElement struct {
	Type  string     `json:"type"`
	Text  *SlackText `json:"text,omitempty"`
	URL   string     `json:"url,omitempty"`
	Style string     `json:"style,omitempty"`
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// SlackPayload renders m as a Block Kit message. mention, when set, is a
// Slack handle (with or without @) or member id mentioned in the text.
func SlackPayload(m Message, mention string) SlackMessage {
	head := slackEscape(m.Title)
	if m.Severity != "" {
		head = fmt.Sprintf("[%s] %s", strings.ToUpper(m.Severity), head)
	}
	if m.IncidentID != 0 {
		head = fmt.Sprintf("%s (incident #%d)", head, m.IncidentID)
	}
	text := "*" + head + "*"
	if mention != "" {
		mention = strings.TrimPrefix(mention, "@")
		if strings.HasPrefix(mention, "U") || strings.HasPrefix(mention, "W") {
			text = "<@" + mention + "> " + text
		} else {
			text = "@" + slackEscape(mention) + " " + text
		}
	}
	if m.Text != "" {
		text += "\n" + slackEscape(m.Text)
	}
	out := SlackMessage{Text: head, Blocks: []SlackBlock{{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: text}}}}
	var fields []SlackText
	if m.Service != "" {
		fields = append(fields, SlackText{Type: "mrkdwn", Text: "*Service*\n" + slackEscape(m.Service)})
	}
	if m.Status != "" {
		fields = append(fields, SlackText{Type: "mrkdwn", Text: "*Status*\n" + slackEscape(m.Status)})
	}
	keys := make([]string, 0, len(m.Fields))
	for k := range m.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(fields) == 10 { // Block Kit allows ten fields per section
			break
		}
		fields = append(fields, SlackText{Type: "mrkdwn", Text: "*" + slackEscape(k) + "*\n" + slackEscape(m.Fields[k])})
	}
	if len(fields) > 0 {
		out.Blocks = append(out.Blocks, SlackBlock{Type: "section", Fields: fields})
	}
	var buttons []SlackElement
	if m.AckURL != "" {
		buttons = append(buttons, SlackElement{Type: "button", Text: &SlackText{Type: "plain_text", Text: "Acknowledge"}, URL: m.AckURL, Style: "primary"})
	}
	if m.ResolveURL != "" {
		buttons = append(buttons, SlackElement{Type: "button", Text: &SlackText{Type: "plain_text", Text: "Resolve"}, URL: m.ResolveURL})
	}
	if m.URL != "" {
		buttons = append(buttons, SlackElement{Type: "button", Text: &SlackText{Type: "plain_text", Text: "Open"}, URL: m.URL})
	}
	if len(buttons) > 0 {
		out.Blocks = append(out.Blocks, SlackBlock{Type: "actions", Elements: buttons})
	}
	return out
}

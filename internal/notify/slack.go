package notify

import (
	"fmt"
	"regexp"
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

// slackMemberIDPattern is the shape of a Slack member ID: U, or W for
// Enterprise Grid users, then uppercase letters and digits. IDs were nine
// characters long (U012AB3CD) and newer ones have eleven (U01234ABCDE);
// Slack has lengthened IDs before and asks integrations not to assume a
// length, so only the minimum is fixed.
var slackMemberIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{8,}$`)

// SlackMemberID returns the Slack member ID that s is, written bare
// (U012AB3CD), with an @ (@U012AB3CD) or in Slack's mention syntax
// (<@U012AB3CD>), and false for anything else. Only a member ID notifies
// anyone: in a message from an incoming webhook "@alice" is plain text, so
// a handle or display name must be caught when the config is loaded, not
// discovered when a page goes unanswered.
func SlackMemberID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<@") && strings.HasSuffix(s, ">") {
		s = s[len("<@") : len(s)-len(">")]
	} else {
		s = strings.TrimPrefix(s, "@")
	}
	if !slackMemberIDPattern.MatchString(s) {
		return "", false
	}
	return s, true
}

// slackMention renders who a message is for. A member ID becomes <@ID>,
// the one form Slack turns into a notification. Anything else is kept as
// text, so readers still see who was meant, and says that nobody was
// notified: a page that silently fails to ping looks delivered to everyone
// watching the channel.
func slackMention(s string) string {
	if id, ok := SlackMemberID(s); ok {
		return "<@" + id + ">"
	}
	return "@" + slackEscape(strings.TrimPrefix(s, "@")) + " (not notified: not a Slack member ID)"
}

// SlackPayload renders m as a Block Kit message. mention, when set, is the
// person the message is for, ideally as a Slack member ID (see
// SlackMemberID); it leads both the section text and the top-level text,
// which is what Slack shows in the push notification.
func SlackPayload(m Message, mention string) SlackMessage {
	head := slackEscape(m.Title)
	if m.Severity != "" {
		head = fmt.Sprintf("[%s] %s", strings.ToUpper(m.Severity), head)
	}
	if m.IncidentID != 0 {
		head = fmt.Sprintf("%s (incident #%d)", head, m.IncidentID)
	}
	fallback, text := head, "*"+head+"*"
	if mention = strings.TrimSpace(mention); mention != "" {
		who := slackMention(mention)
		fallback, text = who+" "+fallback, who+" "+text
	}
	if m.Text != "" {
		text += "\n" + slackEscape(m.Text)
	}
	out := SlackMessage{Text: fallback, Blocks: []SlackBlock{{Type: "section", Text: &SlackText{Type: "mrkdwn", Text: text}}}}
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

package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxSkew is how far a request's timestamp may be from now: Slack asks
// receivers to refuse older requests so a captured one cannot be replayed.
const MaxSkew = 5 * time.Minute

// Signature errors.
var (
	ErrNoSignature  = errors.New("missing X-Slack-Signature or X-Slack-Request-Timestamp")
	ErrStale        = errors.New("request timestamp is more than 5 minutes from now")
	ErrBadSignature = errors.New("bad X-Slack-Signature")
)

// Sign returns Slack's signature of a request: "v0=" and the hex
// HMAC-SHA256, keyed with the app's signing secret, of
// "v0:{timestamp}:{body}".
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a request from Slack: the X-Slack-Request-Timestamp within
// MaxSkew of now and the X-Slack-Signature of body, compared in constant
// time. An empty secret verifies nothing.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	sig, ts := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	if secret == "" || sig == "" || ts == "" {
		return ErrNoSignature
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(secs, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig)) {
		return ErrBadSignature
	}
	return nil
}

// User is who did something, as interaction payloads name them.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

// Action is one element a person used: a button's action_id and value.
type Action struct {
	ActionID string `json:"action_id"`
	BlockID  string `json:"block_id"`
	Value    string `json:"value"`
	Type     string `json:"type"`
	ActionTS string `json:"action_ts"`
}

// Interaction is a block_actions payload: someone clicked a button in a
// message.
type Interaction struct {
	Type string `json:"type"`
	User User   `json:"user"`
	Team struct {
		ID     string `json:"id"`
		Domain string `json:"domain"`
	} `json:"team"`
	Channel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"channel"`
	Container struct {
		Type      string `json:"type"`
		MessageTS string `json:"message_ts"`
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	Message struct {
		TS string `json:"ts"`
	} `json:"message"`
	ResponseURL string   `json:"response_url"`
	TriggerID   string   `json:"trigger_id"`
	Actions     []Action `json:"actions"`
}

// MessageRef is the conversation and timestamp of the message the
// interaction happened in.
func (i Interaction) MessageRef() (channel, ts string) {
	channel, ts = i.Container.ChannelID, i.Container.MessageTS
	if channel == "" {
		channel = i.Channel.ID
	}
	if ts == "" {
		ts = i.Message.TS
	}
	return channel, ts
}

// ParseInteraction reads an interaction request body: a form whose
// "payload" field holds the JSON. Only block_actions with at least one
// action and a user are accepted.
func ParseInteraction(body []byte) (Interaction, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Interaction{}, fmt.Errorf("interaction: body is not a form: %w", err)
	}
	p := form.Get("payload")
	if p == "" {
		return Interaction{}, errors.New("interaction: no payload field")
	}
	var in Interaction
	if err := json.Unmarshal([]byte(p), &in); err != nil {
		return Interaction{}, fmt.Errorf("interaction: payload is not JSON: %w", err)
	}
	if in.Type != "block_actions" {
		return in, fmt.Errorf("interaction: type %q is not handled", in.Type)
	}
	if in.User.ID == "" || len(in.Actions) == 0 {
		return in, errors.New("interaction: no user or no action")
	}
	return in, nil
}

// Command is a slash command invocation.
type Command struct {
	Command     string
	Text        string
	UserID      string
	UserName    string
	ChannelID   string
	ChannelName string
	TeamID      string
	ResponseURL string
	TriggerID   string
}

// ParseCommand reads a slash command request body (a form).
func ParseCommand(body []byte) (Command, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return Command{}, fmt.Errorf("command: body is not a form: %w", err)
	}
	c := Command{Command: f.Get("command"), Text: f.Get("text"), UserID: f.Get("user_id"), UserName: f.Get("user_name"),
		ChannelID: f.Get("channel_id"), ChannelName: f.Get("channel_name"), TeamID: f.Get("team_id"),
		ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id")}
	if c.Command == "" || c.UserID == "" {
		return c, errors.New("command: no command or user_id")
	}
	return c, nil
}

// Envelope types of the Events API.
const (
	TypeURLVerification = "url_verification"
	TypeEventCallback   = "event_callback"
	TypeAppRateLimited  = "app_rate_limited"
)

// Envelope is an Events API request: a url_verification challenge or an
// event_callback carrying one event.
type Envelope struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	TeamID    string `json:"team_id"`
	EventID   string `json:"event_id"`
	EventTime int64  `json:"event_time"`
	Event     Event  `json:"event"`
}

// Event is the inner event: a message or a link_shared.
type Event struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype"`
	User        string `json:"user"`
	BotID       string `json:"bot_id"`
	Text        string `json:"text"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts"`
	// MessageTS is the message whose links were shared (link_shared).
	MessageTS string `json:"message_ts"`
	// UnfurlID and Source identify a link shared in the composer, before
	// the message exists (link_shared).
	UnfurlID string       `json:"unfurl_id"`
	Source   string       `json:"source"`
	Links    []SharedLink `json:"links"`
}

// SharedLink is one link of a link_shared event.
type SharedLink struct {
	Domain string `json:"domain"`
	URL    string `json:"url"`
}

// ParseEvents reads an Events API request body (JSON).
func ParseEvents(body []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return Envelope{}, fmt.Errorf("events: body is not JSON: %w", err)
	}
	switch e.Type {
	case TypeURLVerification:
		if e.Challenge == "" {
			return e, errors.New("events: url_verification without a challenge")
		}
	case TypeEventCallback:
		if e.Event.Type == "" {
			return e, errors.New("events: event_callback without an event")
		}
	case TypeAppRateLimited:
	default:
		return e, fmt.Errorf("events: type %q is not handled", e.Type)
	}
	return e, nil
}

// Unescape turns Slack's message text back into what was typed: a link
// written <url|label> or <url> becomes url, and &amp; &lt; &gt; their
// characters. Mentions (<@U123>) stay as they are.
func Unescape(s string) string {
	s = slackLink.ReplaceAllString(s, "$1")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

var slackLink = regexp.MustCompile(`<((?:https?|mailto):[^|>]*)(?:\|[^>]*)?>`)

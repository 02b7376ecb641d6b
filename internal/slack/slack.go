// Package slack is the small part of Slack's platform tandem speaks: the
// Web API methods it calls with a bot token (chat.postMessage, chat.update,
// chat.unfurl, conversations.create, conversations.invite,
// conversations.archive, users.lookupByEmail, auth.test), the check of
// Slack's request signature, and parsers for what Slack sends (interaction
// payloads, slash commands, Events API callbacks).
//
// It calls the Web API directly rather than through a general client: tandem
// uses nine methods, and what the durable job engine needs from a failure —
// is it worth a retry, and when may it come back (Slack's Retry-After on a
// 429) — is what Error says. Every call takes a context and makes one
// attempt; retries belong to the caller's job.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the Web API's root.
const DefaultBaseURL = "https://slack.com/api"

// Client calls the Web API with a bot token. The zero value is not usable:
// set Token (and BaseURL and HTTP, or leave them to their defaults).
type Client struct {
	// BaseURL is the Web API root (default DefaultBaseURL).
	BaseURL string
	// Token is the bot token (xoxb-…), sent as a Bearer token.
	Token string
	// HTTP makes the calls (default: a client with a 15 s timeout).
	HTTP *http.Client
}

// Error is a failed Web API call. Code is Slack's error code
// ("channel_not_found", "ratelimited") or empty for a transport failure.
type Error struct {
	Method string
	Status int    // HTTP status; 0 when no answer came
	Code   string // Slack's "error" field
	// Permanent says a retry cannot succeed (a bad token, an unknown
	// channel, a missing scope).
	Permanent bool
	// Wait is how long Slack asked the caller to wait (Retry-After on a
	// 429); zero otherwise.
	Wait time.Duration
	msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Code != "":
		return fmt.Sprintf("slack %s: %s", e.Method, e.Code)
	case e.Status != 0:
		return fmt.Sprintf("slack %s: HTTP %d: %s", e.Method, e.Status, e.msg)
	}
	return fmt.Sprintf("slack %s: %s", e.Method, e.msg)
}

// RetryAfter is how long Slack asked to wait before the next call (the job
// engine requeues the job for then; see engine.Deferral).
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// Attempted is true: Slack saw the call, so a rate-limited retry still
// spends an attempt and a method that never succeeds stops in the end.
func (e *Error) Attempted() bool { return e.Status != 0 }

// Is lets errors.Is(err, ErrNotFound) match Slack's "not found" codes.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && (e.Code == "users_not_found" || e.Code == "user_not_found" || e.Code == "channel_not_found")
}

// ErrNotFound matches an Error for an unknown user or channel.
var ErrNotFound = errors.New("slack: not found")

// retryable are the error codes Slack documents as passing: everything
// else (invalid_auth, missing_scope, channel_not_found, …) is permanent.
var retryable = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true, "service_unavailable": true,
	"request_timeout": true, "team_added_to_org": true,
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (c *Client) http() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: 15 * time.Second}
	}
	return c.HTTP
}

// call posts one Web API method. A JSON body (any non-nil body that is not
// url.Values) is sent as application/json, which Slack accepts for write
// methods; url.Values go form-encoded (users.lookupByEmail and auth.test
// take only that). out receives the answer when ok is true.
func (c *Client) call(ctx context.Context, method string, body any, out any) error {
	var rd io.Reader
	ctype := "application/json; charset=utf-8"
	switch b := body.(type) {
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ctype = "application/x-www-form-urlencoded"
	case nil:
		rd = http.NoBody
		ctype = "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return &Error{Method: method, Permanent: true, msg: "encode request: " + err.Error()}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base()+"/"+method, rd)
	if err != nil {
		return &Error{Method: method, Permanent: true, msg: "bad base URL"}
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("User-Agent", "tandem")
	resp, err := c.http().Do(req)
	if err != nil {
		return &Error{Method: method, msg: redact(err.Error(), c.Token)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &Error{Method: method, Status: resp.StatusCode, msg: "read answer: " + err.Error()}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return &Error{Method: method, Status: resp.StatusCode, Code: "ratelimited", Wait: retryAfter(resp.Header.Get("Retry-After"))}
	}
	if resp.StatusCode != http.StatusOK {
		perm := resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout
		return &Error{Method: method, Status: resp.StatusCode, Permanent: perm, msg: strings.TrimSpace(string(raw[:min(len(raw), 200)]))}
	}
	var env struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return &Error{Method: method, Status: resp.StatusCode, msg: "answer is not JSON"}
	}
	if !env.OK {
		if env.Error == "" {
			env.Error = "unknown_error"
		}
		return &Error{Method: method, Status: resp.StatusCode, Code: env.Error, Permanent: !retryable[env.Error]}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return &Error{Method: method, Status: resp.StatusCode, msg: "decode answer: " + err.Error()}
		}
	}
	return nil
}

// retryAfter reads Retry-After (seconds), bounded to [1s, 10m]; Slack
// sends seconds. Missing or unreadable: 1 minute, Slack's usual window.
func retryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return time.Minute
	}
	return min(max(time.Duration(secs)*time.Second, time.Second), 10*time.Minute)
}

func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "<token>")
}

// Message is a message to post or an update of one.
type Message struct {
	// Channel is a conversation ID (C…, G…, D…) or a user ID (U…) for the
	// app's direct message with that person.
	Channel string `json:"channel"`
	// TS names the message to update (chat.update only).
	TS string `json:"ts,omitempty"`
	// Text is the notification and fallback text.
	Text string `json:"text"`
	// Blocks are Block Kit blocks (any value that encodes to a JSON array).
	Blocks any `json:"blocks,omitempty"`
	// ThreadTS posts the message as a reply in a thread.
	ThreadTS string `json:"thread_ts,omitempty"`
	// UnfurlLinks turns off link previews when false (chat.postMessage).
	UnfurlLinks *bool `json:"unfurl_links,omitempty"`
}

// Posted is where a posted message landed: the conversation and the
// message's timestamp, which chat.update needs.
type Posted struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// PostMessage posts m (chat.postMessage).
func (c *Client) PostMessage(ctx context.Context, m Message) (Posted, error) {
	m.TS = ""
	var out Posted
	err := c.call(ctx, "chat.postMessage", m, &out)
	return out, err
}

// UpdateMessage replaces the message m.Channel/m.TS with m (chat.update).
func (c *Client) UpdateMessage(ctx context.Context, m Message) error {
	if m.TS == "" {
		return &Error{Method: "chat.update", Permanent: true, msg: "no message timestamp"}
	}
	m.ThreadTS, m.UnfurlLinks = "", nil
	return c.call(ctx, "chat.update", m, nil)
}

// Conversation is a channel.
type Conversation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CreateConversation creates a public (or private) channel
// (conversations.create). A taken name is an *Error with Code "name_taken".
func (c *Client) CreateConversation(ctx context.Context, name string, private bool) (Conversation, error) {
	var out struct {
		Channel Conversation `json:"channel"`
	}
	err := c.call(ctx, "conversations.create", map[string]any{"name": name, "is_private": private}, &out)
	return out.Channel, err
}

// Invite adds users to a channel (conversations.invite, with force so the
// valid users join even when one cannot). People already in the channel
// are not an error.
func (c *Client) Invite(ctx context.Context, channel string, users []string) error {
	if len(users) == 0 {
		return nil
	}
	err := c.call(ctx, "conversations.invite", map[string]any{"channel": channel, "users": strings.Join(users, ","), "force": true}, nil)
	var se *Error
	if errors.As(err, &se) && (se.Code == "already_in_channel" || se.Code == "cant_invite_self") {
		return nil
	}
	return err
}

// Archive archives a channel (conversations.archive); an archived one is
// not an error.
func (c *Client) Archive(ctx context.Context, channel string) error {
	err := c.call(ctx, "conversations.archive", map[string]any{"channel": channel}, nil)
	var se *Error
	if errors.As(err, &se) && se.Code == "already_archived" {
		return nil
	}
	return err
}

// LookupByEmail returns the member ID of the workspace user with that
// email (users.lookupByEmail); an unknown email matches ErrNotFound.
func (c *Client) LookupByEmail(ctx context.Context, email string) (string, error) {
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := c.call(ctx, "users.lookupByEmail", url.Values{"email": {email}}, &out); err != nil {
		return "", err
	}
	return out.User.ID, nil
}

// Unfurl gives Slack the previews of links in a message (chat.unfurl):
// unfurls maps each URL to an attachment such as {"blocks": [...]}.
func (c *Client) Unfurl(ctx context.Context, channel, ts string, unfurls map[string]any) error {
	return c.call(ctx, "chat.unfurl", map[string]any{"channel": channel, "ts": ts, "unfurls": unfurls}, nil)
}

// PostEphemeral shows text to one user in a channel, visible to them only
// (chat.postEphemeral).
func (c *Client) PostEphemeral(ctx context.Context, channel, user, text string) error {
	return c.call(ctx, "chat.postEphemeral", map[string]any{"channel": channel, "user": user, "text": text}, nil)
}

// Identity is who the token is (auth.test).
type Identity struct {
	URL    string `json:"url"` // the workspace, https://example.slack.com/
	TeamID string `json:"team_id"`
	UserID string `json:"user_id"`
	BotID  string `json:"bot_id"`
}

// AuthTest says which workspace and bot the token belongs to.
func (c *Client) AuthTest(ctx context.Context) (Identity, error) {
	var out Identity
	err := c.call(ctx, "auth.test", url.Values{}, &out)
	return out, err
}

// ChannelURL is the link to a channel's history in the workspace whose URL
// auth.test gave (https://example.slack.com/archives/C0123).
func ChannelURL(workspace, channel string) string {
	if workspace == "" || channel == "" {
		return ""
	}
	return strings.TrimRight(workspace, "/") + "/archives/" + channel
}

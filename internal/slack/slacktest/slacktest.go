// Package slacktest is a stand-in for Slack in tests: an httptest server
// that answers the Web API methods tandem calls, checking each request as
// Slack's documentation specifies (POST to /api/{method}, the bot token as
// a Bearer token, the content type the method takes, its required fields),
// and helpers that send interactions, slash commands and events to tandem
// signed exactly as Slack signs them.
package slacktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/slack"
)

// Call is one Web API call the fake received.
type Call struct {
	Method string
	// Args are the call's fields: the JSON object, or the form values
	// (first value of each).
	Args map[string]any
	// Answer is what the fake answered (for chat.postMessage, its ts).
	Answer map[string]any
}

// Str returns a string argument ("" when absent or not a string).
func (c Call) Str(k string) string {
	s, _ := c.Args[k].(string)
	return s
}

// Server is a fake Slack workspace.
type Server struct {
	t     testing.TB
	srv   *httptest.Server
	Token string

	mu       sync.Mutex
	calls    []Call
	seq      int
	channels map[string]string // id -> name
	archived map[string]bool
	// Emails maps email addresses to member IDs for users.lookupByEmail.
	Emails map[string]string
	// Fail, when set, decides an answer for a method before the normal
	// one: return a status and body to send, or 0 to answer normally.
	Fail   func(method string, n int) (status int, header http.Header, body string)
	counts map[string]int
}

// New starts a fake Slack that accepts token.
func New(t testing.TB, token string) *Server {
	s := &Server{t: t, Token: token, channels: map[string]string{}, archived: map[string]bool{},
		Emails: map[string]string{}, counts: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the Web API root to configure (…/api).
func (s *Server) URL() string { return s.srv.URL + "/api" }

// Calls returns the calls received so far, optionally only of one method.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Channel returns the name of a created channel and whether it is archived.
func (s *Server) Channel(id string) (name string, archived bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channels[id], s.archived[id]
}

// required lists each method's fields that Slack's documentation marks
// required, and the content types it takes.
var required = map[string]struct {
	fields []string
	json   bool // accepts application/json
}{
	"chat.postMessage":      {[]string{"channel"}, true},
	"chat.update":           {[]string{"channel", "ts"}, true},
	"chat.unfurl":           {[]string{"channel", "ts", "unfurls"}, true},
	"chat.postEphemeral":    {[]string{"channel", "user", "text"}, true},
	"conversations.create":  {[]string{"name"}, true},
	"conversations.invite":  {[]string{"channel", "users"}, true},
	"conversations.archive": {[]string{"channel"}, true},
	"users.lookupByEmail":   {[]string{"email"}, false},
	"auth.test":             {nil, false},
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	spec, known := required[method]
	fail := func(format string, args ...any) {
		s.t.Errorf("fake slack: "+format, args...)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
	}
	if !known {
		fail("unexpected method %s", r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		fail("%s: method %s, want POST", method, r.Method)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	args := map[string]any{}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		if !spec.json {
			fail("%s does not take JSON bodies", method)
			return
		}
		if err := json.Unmarshal(body, &args); err != nil {
			fail("%s: body is not a JSON object: %v", method, err)
			return
		}
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		f, err := url.ParseQuery(string(body))
		if err != nil {
			fail("%s: bad form: %v", method, err)
			return
		}
		for k := range f {
			args[k] = f.Get(k)
		}
	default:
		fail("%s: Content-Type %q", method, ct)
		return
	}
	for _, f := range spec.fields {
		if v, ok := args[f]; !ok || v == "" || v == nil {
			fail("%s: required field %s missing", method, f)
			return
		}
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Args: args})
	i := len(s.calls) - 1
	s.counts[method]++
	n := s.counts[method]
	s.mu.Unlock()
	if s.Fail != nil {
		if status, h, b := s.Fail(method, n); status != 0 {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, b)
			return
		}
	}
	ans := s.answer(method, args)
	s.mu.Lock()
	s.calls[i].Answer = ans
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

func (s *Server) answer(method string, args map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	str := func(k string) string { v, _ := args[k].(string); return v }
	switch method {
	case "chat.postMessage":
		s.seq++
		ch := str("channel")
		if strings.HasPrefix(ch, "U") || strings.HasPrefix(ch, "W") {
			ch = "D" + ch[1:] // the app's direct message with that user
		}
		return map[string]any{"ok": true, "channel": ch, "ts": fmt.Sprintf("1700000000.%06d", s.seq)}
	case "chat.update":
		return map[string]any{"ok": true, "channel": str("channel"), "ts": str("ts")}
	case "conversations.create":
		name := str("name")
		for _, n := range s.channels {
			if n == name {
				return map[string]any{"ok": false, "error": "name_taken"}
			}
		}
		s.seq++
		id := fmt.Sprintf("C%08d", s.seq)
		s.channels[id] = name
		return map[string]any{"ok": true, "channel": map[string]any{"id": id, "name": name}}
	case "conversations.archive":
		id := str("channel")
		if _, ok := s.channels[id]; !ok {
			return map[string]any{"ok": false, "error": "channel_not_found"}
		}
		if s.archived[id] {
			return map[string]any{"ok": false, "error": "already_archived"}
		}
		s.archived[id] = true
		return map[string]any{"ok": true}
	case "users.lookupByEmail":
		id, ok := s.Emails[str("email")]
		if !ok {
			return map[string]any{"ok": false, "error": "users_not_found"}
		}
		return map[string]any{"ok": true, "user": map[string]any{"id": id}}
	case "auth.test":
		return map[string]any{"ok": true, "url": "https://tandem-test.slack.com/", "team_id": "T0TEST", "user_id": "U0BOT", "bot_id": "B0BOT"}
	}
	return map[string]any{"ok": true}
}

// Post sends body to url as Slack does: signed with secret at time at
// (X-Slack-Request-Timestamp and X-Slack-Signature), with contentType.
// It returns the status and the answer's body.
func Post(t testing.TB, url, secret, contentType string, body []byte, at time.Time) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", slack.Sign(secret, ts, body))
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// ButtonClick is the form body of a block_actions interaction: user
// clicked the button actionID (with value) in the message channel/ts.
func ButtonClick(user, teamID, channel, ts, actionID, value string) []byte {
	payload := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "username": strings.ToLower(user), "name": strings.ToLower(user), "team_id": teamID},
		"api_app_id": "A0TANDEM", "token": "legacy-verification-token-unused",
		"container":  map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"trigger_id": "123.456.abc", "team": map[string]any{"id": teamID, "domain": "tandem-test"},
		"channel":      map[string]any{"id": channel, "name": "oncall"},
		"message":      map[string]any{"type": "message", "ts": ts, "text": "page"},
		"response_url": "https://hooks.slack.com/actions/T0TEST/1/abc",
		"actions": []any{map[string]any{"action_id": actionID, "block_id": "tandem-actions", "value": value, "type": "button",
			"text": map[string]any{"type": "plain_text", "text": actionID}, "action_ts": "1700000001.000100"}},
	}
	b, _ := json.Marshal(payload)
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

// SlashCommand is the form body of a slash command.
func SlashCommand(user, channel, command, text string) []byte {
	return []byte(url.Values{
		"token": {"legacy-verification-token-unused"}, "team_id": {"T0TEST"}, "team_domain": {"tandem-test"},
		"channel_id": {channel}, "channel_name": {"oncall"}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {command}, "text": {text}, "api_app_id": {"A0TANDEM"},
		"response_url": {"https://hooks.slack.com/commands/T0TEST/1/abc"}, "trigger_id": {"123.456.abc"},
	}.Encode())
}

// MessageEvent is the JSON body of an event_callback carrying a message
// posted by user in channel.
func MessageEvent(eventID, user, channel, ts, text string) []byte {
	b, _ := json.Marshal(map[string]any{
		"token": "legacy-verification-token-unused", "team_id": "T0TEST", "api_app_id": "A0TANDEM",
		"type": "event_callback", "event_id": eventID, "event_time": 1700000000,
		"event": map[string]any{"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
			"event_ts": ts, "channel_type": "channel"},
	})
	return b
}

// LinkShared is the JSON body of an event_callback carrying a link_shared
// event for urls posted in channel/ts.
func LinkShared(eventID, channel, ts string, urls ...string) []byte {
	var links []any
	for _, u := range urls {
		pu, _ := url.Parse(u)
		links = append(links, map[string]any{"domain": pu.Hostname(), "url": u})
	}
	b, _ := json.Marshal(map[string]any{
		"token": "legacy-verification-token-unused", "team_id": "T0TEST", "api_app_id": "A0TANDEM",
		"type": "event_callback", "event_id": eventID, "event_time": 1700000000,
		"event": map[string]any{"type": "link_shared", "channel": channel, "user": "U0SHARER", "message_ts": ts,
			"links": links, "source": "conversations_history", "event_ts": ts},
	})
	return b
}

package chatops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
)

// MattermostAction is the request Mattermost posts when someone clicks an
// integration button (its PostActionIntegrationRequest).
type MattermostAction struct {
	UserID      string         `json:"user_id"`
	UserName    string         `json:"user_name"`
	ChannelID   string         `json:"channel_id"`
	ChannelName string         `json:"channel_name"`
	TeamID      string         `json:"team_id"`
	TeamDomain  string         `json:"team_domain"`
	PostID      string         `json:"post_id"`
	TriggerID   string         `json:"trigger_id"`
	Type        string         `json:"type"`
	DataSource  string         `json:"data_source"`
	Context     map[string]any `json:"context"`
}

// ParseMattermostAction reads an integration action request; it needs a
// context token and a user.
func ParseMattermostAction(body []byte) (MattermostAction, string, error) {
	var a MattermostAction
	if err := json.Unmarshal(body, &a); err != nil {
		return a, "", fmt.Errorf("mattermost action: body is not JSON: %w", err)
	}
	tok, _ := a.Context["token"].(string)
	if tok == "" {
		return a, "", errors.New("mattermost action: no token in the context")
	}
	if a.UserID == "" && a.UserName == "" {
		return a, "", errors.New("mattermost action: no user")
	}
	return a, tok, nil
}

// HandleMattermostAction answers a click on a Mattermost page's button:
// the context token (signed with the shared secret when the page was sent)
// names the incident and what to do; the clicking user, mapped to a person
// by their mattermost contact method, acts. The answer updates the post in
// place; an unknown user or a bad token changes nothing.
func (s *Service) HandleMattermostAction(ctx context.Context, body []byte) (Reply, error) {
	set := s.settings()
	if set.MattermostActionSecret == "" {
		return Reply{}, tandem.Errorf(tandem.EForbidden, "Mattermost buttons are not configured (notifications.mattermost.action_secret_env)")
	}
	a, tok, err := ParseMattermostAction(body)
	if err != nil {
		return Reply{}, tandem.Errorf(tandem.EInvalid, "%v", err)
	}
	var act notify.Action
	err = notify.ErrBadToken
	for _, sec := range notify.Secrets(set.MattermostActionSecret) {
		if act, err = (notify.Signer{Key: []byte(sec)}).Verify(tok, s.Clock.Now()); err == nil {
			break
		}
	}
	if err != nil {
		return Reply{}, tandem.Errorf(tandem.EUnauthorized, "mattermost action: %v", err)
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return Reply{}, err
	}
	person, ok := personByContact(dir, []string{oncall.ContactMattermost}, a.UserName)
	if !ok {
		s.Log.Info("mattermost: button from a user no person maps to; nothing changed", "user", a.UserName, "incident", act.IncidentID)
		return jsonReply(map[string]any{"ephemeral_text": "tandem does not know who you are (Mattermost user " + a.UserName + "): nothing was changed."}), nil
	}
	msg, err := s.act(ctx, act.Verb, act.IncidentID, person+" (mattermost)")
	if err != nil {
		return Reply{}, err
	}
	inc, err := s.Incidents.Get(ctx, act.IncidentID)
	if err != nil {
		return Reply{}, err
	}
	if msg != "" {
		return jsonReply(map[string]any{"ephemeral_text": msg}), nil
	}
	verb := map[string]string{"ack": "Acknowledged", "resolve": "Resolved"}[act.Verb]
	line := fmt.Sprintf("[%s] %s (incident #%d): %s by %s", strings.ToUpper(inc.Severity), inc.Title, inc.ID, strings.ToLower(verb), person)
	att := map[string]any{"fallback": line, "title": fmt.Sprintf("[%s] %s (incident #%d)", strings.ToUpper(inc.Severity), inc.Title, inc.ID),
		"text":   fmt.Sprintf("%s by %s at %s", verb, person, s.Clock.Now().UTC().Format("15:04 UTC")),
		"fields": []any{map[string]any{"short": true, "title": "Status", "value": inc.Status}}}
	if inc.Status == incident.Acknowledged && set.BaseURL != "" {
		// Resolve stays available after an acknowledgement.
		tok := notify.Signer{Key: []byte(notify.SigningSecret(set.MattermostActionSecret))}.Token(notify.Action{Verb: "resolve", IncidentID: inc.ID, Person: act.Person, Expires: act.Expires})
		att["actions"] = []any{map[string]any{"id": "resolve", "type": "button", "name": "Resolve", "style": "good",
			"integration": map[string]any{"url": strings.TrimRight(set.BaseURL, "/") + incident.MattermostActionPath, "context": map[string]any{"token": tok}}}}
	}
	return jsonReply(map[string]any{
		"update":         map[string]any{"message": line, "props": map[string]any{"attachments": []any{att}}},
		"ephemeral_text": fmt.Sprintf("%s incident #%d.", verb, inc.ID),
	}), nil
}

package app

import (
	"context"

	"github.com/tandemhq/tandem/internal/api"
	"github.com/tandemhq/tandem/internal/chatops"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/notify"
)

// wireChatops builds the Slack app, phones, Mattermost buttons and status
// updates capability on the incident manager: its job kinds, its event
// hook and its pagers, and the lookups of people's Slack member IDs at
// start and after each reload.
func (m *Main) wireChatops(ctx context.Context) error {
	mgr := m.API.Incident.Manager
	if mgr == nil {
		return nil
	}
	svc := &chatops.Service{
		DB: m.DB, Clock: m.Options.Clock, Log: m.Options.Log.With("module", "chatops"), Engine: m.Engine,
		Incidents: mgr, Sender: notify.NewSender(notify.SMTP{}, nil),
		Settings: func() chatops.Settings { return chatopsSettings(m.Config.Get()) },
	}
	if m.API.Oncall.Service != nil {
		svc.Oncall = m.API.Oncall.Service
	}
	if m.API.SLO.Service != nil {
		svc.SLOs = m.API.SLO.Service
	}
	if m.API.Change.Store != nil {
		svc.Changes = m.API.Change.Store
	}
	svc.Register()
	m.API.Chatops = api.ChatopsDeps{Service: svc}
	prev := m.API.Reloaded
	m.API.Reloaded = func(c *config.Config) {
		if prev != nil {
			prev(c)
		}
		if err := svc.SyncSlackUsers(context.Background()); err != nil {
			m.Options.Log.Warn("Slack member lookups not enqueued", "err", err)
		}
	}
	if err := svc.SyncSlackUsers(ctx); err != nil {
		m.Options.Log.Warn("Slack member lookups not enqueued", "err", err)
	}
	return nil
}

func chatopsSettings(c *config.Config) chatops.Settings {
	cc := c.Chatops
	limits := func(ls []config.PhoneLimit) []chatops.Limit {
		out := make([]chatops.Limit, len(ls))
		for i, l := range ls {
			out[i] = chatops.Limit{Count: l.Count, Per: l.Per}
		}
		return out
	}
	return chatops.Settings{
		BaseURL:       c.Incident.BaseURL,
		SlackBotToken: cc.SlackBotToken, SlackSigningSecret: cc.SlackSigningSecret, SlackAPIURL: cc.SlackAPIURL, SlackChannel: cc.SlackChannel,
		Channels: chatops.Channels{MinSeverity: cc.Channels.MinSeverity, Name: cc.Channels.Name, Private: cc.Channels.Private,
			NotePrefix: cc.Channels.NotePrefix, ArchiveAfter: cc.Channels.ArchiveAfter, Invite: cc.Channels.Invite, NameFunc: config.ChannelName},
		Twilio: chatops.Twilio{AccountSID: cc.Twilio.AccountSID, AuthToken: cc.Twilio.AuthToken, From: cc.Twilio.From, APIURL: cc.Twilio.APIURL,
			SMSLimits: limits(cc.Twilio.SMSLimits), VoiceLimits: limits(cc.Twilio.VoiceLimits), DailyCap: cc.Twilio.DailyCap},
		MattermostActionSecret: cc.MattermostActionSecret, ActionTTL: c.Incident.ActionTTL,
		StatusWebhookURL: cc.StatusWebhookURL, StatusWebhookSecret: cc.StatusWebhookSecret,
		Statuspage: chatops.Statuspage{PageID: cc.Statuspage.PageID, APIKey: cc.Statuspage.APIKey, APIURL: cc.Statuspage.APIURL, ComponentIDs: cc.Statuspage.ComponentIDs},
	}
}

package chatops_test

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// slackManifest mirrors Slack's app manifest schema (the JSON schema of
// the manifest reference: every object refuses properties it does not
// list). Decoding with known fields only is its additionalProperties:
// false.
type slackManifest struct {
	Metadata *struct {
		MajorVersion int `yaml:"major_version"`
		MinorVersion int `yaml:"minor_version"`
	} `yaml:"_metadata"`
	DisplayInformation *struct {
		Name            string `yaml:"name"`
		Description     string `yaml:"description"`
		LongDescription string `yaml:"long_description"`
		BackgroundColor string `yaml:"background_color"`
	} `yaml:"display_information"`
	Settings *struct {
		AllowedIPAddressRanges []string `yaml:"allowed_ip_address_ranges"`
		EventSubscriptions     *struct {
			RequestURL string   `yaml:"request_url"`
			BotEvents  []string `yaml:"bot_events"`
			UserEvents []string `yaml:"user_events"`
		} `yaml:"event_subscriptions"`
		Interactivity *struct {
			IsEnabled             *bool  `yaml:"is_enabled"`
			RequestURL            string `yaml:"request_url"`
			MessageMenuOptionsURL string `yaml:"message_menu_options_url"`
		} `yaml:"interactivity"`
		OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
	Features *struct {
		AppHome *struct {
			HomeTabEnabled             bool `yaml:"home_tab_enabled"`
			MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
			MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
		} `yaml:"app_home"`
		BotUser *struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline bool   `yaml:"always_online"`
		} `yaml:"bot_user"`
		Shortcuts []struct {
			Name        string `yaml:"name"`
			CallbackID  string `yaml:"callback_id"`
			Description string `yaml:"description"`
			Type        string `yaml:"type"`
		} `yaml:"shortcuts"`
		SlashCommands []struct {
			Command      string `yaml:"command"`
			Description  string `yaml:"description"`
			ShouldEscape bool   `yaml:"should_escape"`
			URL          string `yaml:"url"`
			UsageHint    string `yaml:"usage_hint"`
		} `yaml:"slash_commands"`
		UnfurlDomains []string `yaml:"unfurl_domains"`
		WorkflowSteps []struct {
			Name       string `yaml:"name"`
			CallbackID string `yaml:"callback_id"`
		} `yaml:"workflow_steps"`
	} `yaml:"features"`
	OAuthConfig *struct {
		RedirectURLs []string `yaml:"redirect_urls"`
		Scopes       *struct {
			Bot  []string `yaml:"bot"`
			User []string `yaml:"user"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
}

// checkManifest applies the schema's constraints (required properties,
// maxLength, maxItems, patterns, enums) and tandem's own: every request
// URL is one of tandem's webhook routes on one https host, the bot scopes
// cover every Web API method tandem calls, and the events cover notes and
// previews.
func checkManifest(raw []byte) []string {
	var m slackManifest
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return []string{"schema: " + err.Error()}
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, sprintf(format, args...)) }
	maxLen := func(field, v string, n int) {
		if utf8.RuneCountInString(v) > n {
			bad("%s: longer than %d characters", field, n)
		}
	}
	d := m.DisplayInformation
	if d == nil || d.Name == "" {
		bad("display_information.name: required")
	} else {
		maxLen("display_information.name", d.Name, 35)
		maxLen("display_information.description", d.Description, 140)
		maxLen("display_information.long_description", d.LongDescription, 4000)
		if d.BackgroundColor != "" && !regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}){1,2}$`).MatchString(d.BackgroundColor) {
			bad("display_information.background_color: not a hex color")
		}
	}
	hosts := map[string]bool{}
	route := func(field, v, path string) {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Path != path {
			bad("%s: want https://<tandem>%s, got %q", field, path, v)
			return
		}
		hosts[u.Host] = true
	}
	f := m.Features
	if f == nil || f.BotUser == nil {
		bad("features.bot_user: the app needs a bot user")
	} else {
		maxLen("features.bot_user.display_name", f.BotUser.DisplayName, 80)
		if !regexp.MustCompile(`^[\w\-.]+$`).MatchString(f.BotUser.DisplayName) {
			bad("features.bot_user.display_name: letters, digits, -, _ and . only")
		}
	}
	if f != nil {
		if len(f.UnfurlDomains) > 5 {
			bad("features.unfurl_domains: at most 5")
		}
		for _, s := range f.Shortcuts {
			if s.Name == "" || s.CallbackID == "" || s.Description == "" || (s.Type != "message" && s.Type != "global") {
				bad("features.shortcuts: name, callback_id, description and type message|global are required")
			}
		}
		found := false
		for _, c := range f.SlashCommands {
			if c.Command == "" || c.Description == "" {
				bad("features.slash_commands: command and description are required")
			}
			maxLen("slash_commands.command", c.Command, 32)
			maxLen("slash_commands.description", c.Description, 2000)
			maxLen("slash_commands.usage_hint", c.UsageHint, 1000)
			if !strings.HasPrefix(c.Command, "/") {
				bad("slash_commands.command: must start with /")
			}
			if c.Command == "/tandem" {
				found = true
				route("features.slash_commands[/tandem].url", c.URL, "/api/v1/webhooks/slack/commands")
			}
		}
		if !found {
			bad("features.slash_commands: no /tandem")
		}
	}
	s := m.Settings
	if s == nil || s.Interactivity == nil || s.Interactivity.IsEnabled == nil || !*s.Interactivity.IsEnabled {
		bad("settings.interactivity: is_enabled is required and must be true (the buttons)")
	} else {
		route("settings.interactivity.request_url", s.Interactivity.RequestURL, "/api/v1/webhooks/slack/interactions")
	}
	if s == nil || s.EventSubscriptions == nil {
		bad("settings.event_subscriptions: required (notes and previews)")
	} else {
		route("settings.event_subscriptions.request_url", s.EventSubscriptions.RequestURL, "/api/v1/webhooks/slack/events")
		if len(s.EventSubscriptions.BotEvents) > 100 {
			bad("settings.event_subscriptions.bot_events: at most 100")
		}
		for _, e := range []string{"message.channels", "message.groups", "link_shared"} {
			if !slices.Contains(s.EventSubscriptions.BotEvents, e) {
				bad("settings.event_subscriptions.bot_events: lacks %s", e)
			}
		}
	}
	if s != nil && s.SocketModeEnabled {
		bad("settings.socket_mode_enabled: tandem takes HTTP requests, not Socket Mode")
	}
	if len(hosts) > 1 {
		bad("request URLs name more than one host: %v", hosts)
	}
	if f != nil {
		for _, dom := range f.UnfurlDomains {
			if !hosts[dom] {
				bad("features.unfurl_domains: %s is not tandem's host", dom)
			}
		}
	}
	var bot []string
	if m.OAuthConfig != nil && m.OAuthConfig.Scopes != nil {
		bot = m.OAuthConfig.Scopes.Bot
		if len(bot) > 255 {
			bad("oauth_config.scopes.bot: at most 255")
		}
	}
	// The scope each Web API method and event tandem uses needs.
	for what, scope := range map[string]string{
		"chat.postMessage": "chat:write", "chat.update": "chat:write", "chat.postEphemeral": "chat:write",
		"/tandem": "commands", "conversations.create (public)": "channels:manage", "conversations.create (private)": "groups:write",
		"message.channels": "channels:history", "message.groups": "groups:history",
		"users.lookupByEmail": "users:read.email", "link_shared": "links:read", "chat.unfurl": "links:write",
	} {
		if !slices.Contains(bot, scope) {
			bad("oauth_config.scopes.bot: lacks %s (for %s)", scope, what)
		}
	}
	return errs
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// TestSlackAppManifest validates examples/slack-app-manifest.yaml against
// Slack's manifest schema and what tandem needs of the app; the checker is
// shown to catch each kind of mistake.
func TestSlackAppManifest(t *testing.T) {
	raw, err := os.ReadFile("../../examples/slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if errs := checkManifest(raw); len(errs) > 0 {
		t.Fatalf("examples/slack-app-manifest.yaml:\n%s", strings.Join(errs, "\n"))
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"unknown property":  {"  org_deploy_enabled: false", "  org_deploy_enabled: false\n  verification_token: x", "schema:"},
		"name too long":     {"  name: tandem", "  name: tandem incident response for the whole company", "display_information.name: longer than 35"},
		"no slash":          {"    - command: /tandem", "    - command: tandem", "must start with /"},
		"wrong route":       {"webhooks/slack/interactions", "webhooks/slack/interaction", "settings.interactivity.request_url"},
		"plain http":        {"url: https://tandem.example.com/api/v1/webhooks/slack/commands", "url: http://tandem.example.com/api/v1/webhooks/slack/commands", "want https"},
		"missing scope":     {"      - links:write\n", "", "lacks links:write"},
		"missing event":     {"      - link_shared\n", "", "lacks link_shared"},
		"bad display name":  {"    display_name: tandem", "    display_name: tandem bot", "letters, digits"},
		"interactivity off": {"    is_enabled: true", "    is_enabled: false", "must be true"},
		"other unfurl host": {"    - tandem.example.com\n", "    - grafana.example.com\n", "unfurl_domains: grafana.example.com"},
	} {
		mod := strings.Replace(string(raw), c.from, c.to, 1)
		if mod == string(raw) {
			t.Fatalf("%s: the mutation did not apply", name)
		}
		errs := strings.Join(checkManifest([]byte(mod)), "\n")
		if !strings.Contains(errs, c.want) {
			t.Errorf("%s: errors %q lack %q", name, errs, c.want)
		}
	}
}

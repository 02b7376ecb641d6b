package app

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/tandemhq/tandem/internal/api"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
)

// EnvTimeScale names the test-only variable that scales every escalation,
// notification-rule, ack-timeout and heartbeat delay (0.001 turns a
// 10-minute escalation delay into 600ms), and the postmortem reminders'
// interval. The kill -9 and multi-replica tests use it; production never
// sets it.
const EnvTimeScale = "TANDEM_TEST_TIME_SCALE"

// EnvClockOffset names the test-only variable that moves the process's
// reading of the machine's clock (-60s: a machine a minute slow), to show
// that replicas whose clocks disagree still page once and on time. The
// clock-skew test uses it; production never sets it.
const EnvClockOffset = "TANDEM_TEST_CLOCK_OFFSET"

// wireIncident builds the incidents, inbound alerts, notifications and the
// job engine capability: the incident manager (registering its job kinds on
// m.Engine), the notification sender, the API deps, DORA's incident source,
// the config's maintenance windows and the hourly prune of finished jobs
// (a singleton loop).
func (m *Main) wireIncident(ctx context.Context) error {
	scale := m.timeScale
	cfg := m.Config.Get().Incident
	sender := notify.NewSender(smtpOf(cfg), limitsOf(cfg))
	mgr := incident.NewManager(m.DB, m.Options.Clock, m.Options.Log.With("module", "incident"), m.Engine, sender)
	if m.API.Oncall.Service != nil {
		mgr.Directories = m.API.Oncall.Service
	}
	if m.API.Change.Store != nil {
		mgr.Changes = m.API.Change.Store
	}
	mgr.Catalog = func() *catalog.Catalog { return m.Config.Get().Catalog }
	settings := func() incident.Settings {
		c := m.Config.Get()
		s := incidentSettings(c.Incident, scale)
		s.TeamsWebhookURL = c.Chatops.TeamsWebhookURL
		s.MattermostWebhookURL, s.MattermostActionSecret = c.Chatops.MattermostWebhookURL, c.Chatops.MattermostActionSecret
		return s
	}
	mgr.Settings = settings
	m.Modules = append(m.Modules, m.Leaders.Loop("job-prune", time.Hour, func(ctx context.Context) error {
		keep := m.Config.Get().Incident.JobRetention
		if keep <= 0 {
			keep = engine.DefaultRetention
		}
		n, err := engine.Prune(ctx, m.DB, m.Options.Clock.Now().Add(-keep))
		if n > 0 {
			m.Options.Log.Info("finished jobs pruned", "jobs", n, "older_than", keep)
		}
		return err
	}))
	m.API.Incident = api.IncidentDeps{Manager: mgr, Engine: m.Engine, Settings: settings}
	if m.API.Change.DORA != nil {
		m.API.Change.DORA.Incidents = IncidentsForDORA(mgr)
	}
	prev := m.API.Reloaded
	m.API.Reloaded = func(c *config.Config) {
		if prev != nil {
			prev(c)
		}
		sender.SetSMTP(smtpOf(c.Incident))
		sender.SetLimits(limitsOf(c.Incident))
		if err := addWindows(context.Background(), mgr, c.Incident); err != nil {
			m.Options.Log.Warn("maintenance windows from config not stored", "err", err)
		}
	}
	return addWindows(ctx, mgr, cfg)
}

func addWindows(ctx context.Context, mgr *incident.Manager, c config.IncidentConfig) error {
	for _, w := range c.Maintenance {
		if _, err := mgr.AddWindow(ctx, incident.Window{Service: w.Service, StartsAt: w.Start, EndsAt: w.End, Reason: w.Reason, CreatedBy: "config"}); err != nil {
			return fmt.Errorf("maintenance window for %s: %w", w.Service, err)
		}
	}
	return nil
}

func incidentSettings(c config.IncidentConfig, scale float64) incident.Settings {
	s := incident.DefaultSettings()
	s.TimeScale = scale
	if c.Severities == nil { // no config loaded: the defaults
		return s
	}
	s.AutoResolve = c.AutoResolve
	s.Mapping = incident.Mapping{ServiceLabel: c.ServiceLabel, SeverityLabel: c.SeverityLabel, Severities: c.Severities,
		DefaultSeverity: c.DefaultSeverity, DefaultService: c.DefaultService}
	s.BaseURL = c.BaseURL
	s.ActionKey = c.ActionKey
	if c.ActionTTL > 0 {
		s.ActionTTL = c.ActionTTL
	}
	s.SlackWebhookURL = c.SlackWebhookURL
	s.WebhookSecret = c.WebhookSecret
	s.FallbackPolicy = c.FallbackPolicy
	return s
}

func smtpOf(c config.IncidentConfig) notify.SMTP {
	return notify.SMTP{Addr: c.SMTP.Addr, From: c.SMTP.From, Username: c.SMTP.Username, Password: c.SMTP.Password, StartTLS: c.SMTP.StartTLS}
}

func limitsOf(c config.IncidentConfig) map[string]notify.Limit {
	out := map[string]notify.Limit{}
	for k, v := range c.RateLimits {
		out[k] = notify.Limit{Every: v.Every, Burst: v.Burst}
	}
	return out
}

// timeScaleFromEnv reads EnvTimeScale (1 when unset).
func timeScaleFromEnv(m *Main) error {
	m.timeScale = 1
	v := os.Getenv(EnvTimeScale)
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return fmt.Errorf("%s: want a positive number, got %q", EnvTimeScale, v)
	}
	m.timeScale = f
	m.Options.Log.Warn("escalation delays are scaled for testing", "scale", f)
	return nil
}

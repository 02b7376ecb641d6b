package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandemhq/tandem/internal/api"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/github"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
)

// wireGate builds the CI/CD gates, post-deploy verification and migration
// checks capability: the gate result store (audit log), the verifier with
// its durable job (gate.verify), enqueued in the transaction that records a
// deploy finished with verify, the regression alert through the
// incident manager, and failing-gate notifications as durable jobs
// (gate.notify) to the channels of the gates: config, enqueued in the
// transaction that records the failing result, and GitHub reporting
// (gate.github: check runs and deployment statuses, gates.github in the
// config), enqueued in the transaction that records any result.
func (m *Main) wireGate(ctx context.Context) error {
	results := gate.NewStore(m.DB)
	changes := m.API.Change.Store
	if changes == nil {
		changes = change.NewStore(m.DB)
	}
	sliStore := m.API.SLO.Store
	if sliStore == nil {
		sliStore = slo.NewStore(m.DB)
	}
	reader := gate.SLIReader{Store: sliStore, Prometheus: sli.NewPrometheus(nil)}
	v := &gate.Verifier{
		Changes: changes, Results: results,
		SLOs:     func() []*slo.Definition { return m.Config.Get().SLO.Definitions },
		Reader:   reader,
		Clock:    m.Options.Clock,
		Log:      m.Options.Log.With("module", "gate"),
		Defaults: func() gate.VerifyOptions { return m.Config.Get().Gate.Verification },
	}
	if mgr := m.API.Incident.Manager; mgr != nil {
		v.Alerts = regressionAlerts{mgr}
	}
	m.API.Gate = api.GateDeps{Results: results, Verifier: v}
	if svc := m.API.SLO.Service; svc != nil {
		m.API.Gate.SLO = &gate.SLOGate{SLOs: svc, Reader: reader, Clock: m.Options.Clock,
			Services: func() []string { return m.Config.Get().Catalog.ServiceNames() }}
	}
	if m.Engine != nil {
		m.Engine.Register(gate.JobKind, v.HandleJob)
		sender := notify.NewSender(smtpOf(m.Config.Get().Incident), nil)
		m.Engine.Register(gateNotifyKind, func(ctx context.Context, j engine.Job) error {
			return m.sendGateNotice(ctx, sender, j)
		})
		m.API.Gate.Failed = func(ctx context.Context, tx *db.Tx, r gate.Result) error {
			for i := range m.Config.Get().Gate.Notify {
				key := fmt.Sprintf("%s:%d:%d", gateNotifyKind, r.ID, i)
				if _, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: gateNotifyKind, Key: key,
					Payload: gateNotice{Result: r, Channel: i, DeliveryID: key}}); err != nil {
					return err
				}
			}
			return nil
		}
		changes.OnFinished(v.EnqueueTx)
		gh := &githubReporting{now: m.Options.Clock.Now, log: m.Options.Log.With("module", "gate")}
		if c := m.Config.Get().Gate.GitHub; c != nil {
			// A key that cannot be read stops the start, not every report.
			if _, err := gh.client(*c); err != nil {
				return fmt.Errorf("gates.github: %w", err)
			}
		}
		rep := &gate.GitHubReporter{Results: results, Changes: changes, Log: m.Options.Log.With("module", "gate"),
			Settings: func() gate.GitHubSettings { return gh.settings(m.Config.Get()) },
			Repo:     func(svc string) (string, bool) { return repoOf(m.Config.Get(), svc) },
		}
		results.OnRecorded(rep.EnqueueTx)
		m.Engine.Register(gate.GitHubJobKind, rep.HandleJob)
	}
	return nil
}

// githubReporting builds the GitHub client of gates.github once per
// setting, so an App installation token is cached across jobs, and again
// when a reload changes the setting.
type githubReporting struct {
	now func() time.Time
	log *slog.Logger

	mu  sync.Mutex
	cfg config.GateGitHub
	c   *github.Client
}

func (g *githubReporting) client(c config.GateGitHub) (*github.Client, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.c != nil && g.cfg == c {
		return g.c, nil
	}
	cl := &github.Client{BaseURL: c.APIURL, Now: g.now}
	switch {
	case c.AppID != "":
		pemBytes, err := os.ReadFile(c.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read the app's private key: %w", err)
		}
		key, err := github.ParsePrivateKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("app private key %s: %w", c.PrivateKeyFile, err)
		}
		cl.Auth = &github.AppInstallation{AppID: c.AppID, InstallationID: c.InstallationID, Key: key, BaseURL: c.APIURL, Now: g.now}
	case c.TokenFile != "":
		cl.Auth = github.FileToken(c.TokenFile)
	default:
		cl.Auth = github.EnvToken(c.TokenEnv)
	}
	g.c, g.cfg = cl, c
	return cl, nil
}

// settings are the live config's reporting settings. A reload whose key
// cannot be read keeps the client built before it (and says so).
func (g *githubReporting) settings(cfg *config.Config) gate.GitHubSettings {
	gc := cfg.Gate.GitHub
	if gc == nil {
		return gate.GitHubSettings{}
	}
	c, err := g.client(*gc)
	if err != nil {
		g.mu.Lock()
		c = g.c
		g.mu.Unlock()
		g.log.Error("gates.github: keeping the previous GitHub client", "err", err)
		if c == nil {
			return gate.GitHubSettings{}
		}
	}
	return gate.GitHubSettings{Client: c, CheckRuns: gc.CheckRuns, DeploymentStatuses: gc.DeploymentStatuses, BaseURL: cfg.Incident.BaseURL}
}

// repoOf is the "owner/name" GitHub repository of a service: its entry in
// github.repositories (the first in name order when several name it),
// else the last two path segments of its catalog repository URL
// (https://github.com/acme/checkout, git@github.com:acme/checkout.git).
func repoOf(cfg *config.Config, service string) (string, bool) {
	if service == "" {
		return "", false
	}
	var names []string
	for repo, svc := range cfg.Change.GitHub.Repositories {
		if svc == service {
			names = append(names, repo)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return names[0], true
	}
	svc, ok := cfg.Catalog.Service(service)
	if !ok || svc.Repository == "" {
		return "", false
	}
	u := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(svc.Repository), "/"), ".git")
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	} else if _, rest, ok := strings.Cut(u, ":"); ok { // scp-like git@host:owner/name
		u = "host/" + rest
	}
	parts := strings.Split(u, "/")
	if len(parts) < 3 || parts[len(parts)-2] == "" || parts[len(parts)-1] == "" {
		return "", false
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1], true
}

const gateNotifyKind = "gate.notify"

type gateNotice struct {
	Result     gate.Result `json:"result"`
	Channel    int         `json:"channel"`
	DeliveryID string      `json:"delivery_id"`
}

// sendGateNotice delivers one failing-gate message to one configured
// channel, reading URLs and secrets from the environment at send time.
func (m *Main) sendGateNotice(ctx context.Context, sender *notify.Sender, j engine.Job) error {
	var n gateNotice
	if err := json.Unmarshal(j.Payload, &n); err != nil {
		return engine.Permanent(err)
	}
	chans := m.Config.Get().Gate.Notify
	if n.Channel >= len(chans) {
		return engine.Permanent(fmt.Errorf("gate notification channel %d is no longer configured", n.Channel))
	}
	c := chans[n.Channel]
	ch := notify.Channel{Type: c.Type, URL: c.URL, To: c.To}
	if c.URLEnv != "" {
		ch.URL = os.Getenv(c.URLEnv)
	}
	if c.SecretEnv != "" {
		ch.Secret = os.Getenv(c.SecretEnv)
	}
	r := n.Result
	var lines []string
	fields := map[string]string{"gate": r.Kind, "verdict": r.Verdict}
	for _, c := range r.Checks {
		if c.Verdict != gate.Pass {
			lines = append(lines, gate.FormatCheck(c))
		}
	}
	if r.Target != "" {
		fields["target"] = r.Target
	}
	return sender.Send(ctx, ch, notify.Message{
		DeliveryID: n.DeliveryID, Event: "gate.blocked", Service: r.Service, Status: r.Verdict,
		Title: fmt.Sprintf("%s gate failed for %s", r.Kind, orDash(r.Service)),
		Text:  strings.TrimSpace(r.Message + "\n" + strings.Join(lines, "\n")), Fields: fields, SentAt: m.Options.Clock.Now(),
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// regressionAlerts raises "SLO violation after deployment" through the
// incident manager; the incident carries deploy_id, so DORA ties it to the
// deploy.
type regressionAlerts struct{ mgr *incident.Manager }

func (a regressionAlerts) RaiseDeployRegression(ctx context.Context, dep change.Event, v gate.Verification) error {
	id := strconv.FormatInt(dep.ID, 10)
	_, err := a.mgr.Alert(ctx, incident.AlertInput{
		Source: "tandem-verify", GroupKey: "verify:" + dep.Service + ":" + id, Fingerprint: "verify:" + id,
		Service: dep.Service, Severity: "sev2", Title: "SLO violation after deployment",
		Summary: v.Reason, Status: "firing",
		Labels:   map[string]string{"deploy_id": id, "service": dep.Service, "version": dep.Version},
		StartsAt: v.To,
	})
	return err
}

package postmortem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/github"
	"github.com/tandemhq/tandem/internal/incident"
)

// Job kinds.
const (
	JobGenerate = "postmortem.generate"
	JobPublish  = "postmortem.publish"
	JobRemind   = "postmortem.remind"
)

// Settings is the live postmortem configuration.
type Settings struct {
	// MinSeverity is the least severe incident that gets a postmortem
	// (default sev1: only sev1).
	MinSeverity string
	// ServiceSeverity overrides MinSeverity per service; an incident on
	// several services uses the most inclusive of theirs.
	ServiceSeverity map[string]string
	Templates       Templates
	// Lookback is how long before the incident changes are listed
	// (default 6h).
	Lookback time.Duration
	// Extra holds each team's added template fields (team → name → value);
	// key "" applies to every team.
	Extra map[string]map[string]string
	// Directory, when set, receives a Markdown file per published
	// postmortem.
	Directory string
	// GitHub, when set, receives an issue per published postmortem.
	GitHub *GitHub
}

// IncidentReader reads incidents; *incident.Manager implements it.
type IncidentReader interface {
	Get(ctx context.Context, id int64) (incident.Incident, error)
	Timeline(ctx context.Context, id int64) ([]incident.Event, error)
}

// ChangeReader finds the changes of one environment around a moment;
// *change.Store implements it.
type ChangeReader interface {
	AroundIn(ctx context.Context, environment string, services []string, at time.Time, before, after time.Duration) ([]change.Event, error)
}

// BudgetReader tells how much error budget each SLO of the services spent
// in [from, to). The app adapts the SLO capability to it.
type BudgetReader interface {
	BudgetConsumed(ctx context.Context, services []string, from, to time.Time) ([]SLOImpact, error)
}

// Notifier tells an action item's owner about it (the app adapts
// internal/notify: the person's email or Slack).
type Notifier interface {
	NotifyOwner(ctx context.Context, item ActionItem, postmortemTitle string) error
}

// Service generates, stores and publishes postmortems. Set the fields,
// then call Register with the engine.
type Service struct {
	Store     *Store
	Incidents IncidentReader
	Changes   ChangeReader // nil: no changes listed
	Budgets   BudgetReader // nil: no SLO impact
	Notifier  Notifier     // nil: overdue items are listed, not sent
	Catalog   func() *catalog.Catalog
	Settings  func() Settings
	Clock     clock.Clock
	Log       *slog.Logger

	mu      sync.Mutex
	created []func(Postmortem)
}

// OnCreate registers f to be called after each new postmortem is stored
// (by the generation job or through the API), outside any transaction.
func (s *Service) OnCreate(f func(Postmortem)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created = append(s.created, f)
}

// CurrentSettings returns the live settings with their defaults filled in.
func (s *Service) CurrentSettings() Settings { return s.settings() }

func (s *Service) settings() Settings {
	var st Settings
	if s.Settings != nil {
		st = s.Settings()
	}
	if st.MinSeverity == "" {
		st.MinSeverity = "sev1"
	}
	if st.Lookback <= 0 {
		st.Lookback = 6 * time.Hour
	}
	return st
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) catalog() *catalog.Catalog {
	if s.Catalog == nil {
		return catalog.New(nil, nil, nil, nil)
	}
	return s.Catalog()
}

// sevRank is 1 for sev1 … 4 for sev4, 0 for anything else.
func sevRank(s string) int {
	if len(s) == 4 && strings.HasPrefix(s, "sev") && s[3] >= '1' && s[3] <= '4' {
		return int(s[3] - '0')
	}
	return 0
}

// Qualifies reports whether a closed incident of this severity on these
// services gets a postmortem under st.
func Qualifies(st Settings, severity string, services []string) bool {
	limit := sevRank(st.MinSeverity)
	if limit == 0 {
		limit = 1
	}
	for _, svc := range services {
		if r := sevRank(st.ServiceSeverity[svc]); r > limit {
			limit = r
		}
	}
	r := sevRank(severity)
	return r > 0 && r <= limit
}

// Register registers the job handlers on e.
func (s *Service) Register(e *engine.Engine) {
	e.Register(JobGenerate, s.runGenerate)
	e.Register(JobPublish, s.runPublish)
	e.Register(JobRemind, s.runRemind)
}

type generatePayload struct {
	IncidentID int64 `json:"incident_id"`
}

// CloseHook is registered with incident.Manager.OnClose: in the close
// transaction it enqueues the generation of the incident's postmortem when
// the incident qualifies. The key makes it once per incident.
func (s *Service) CloseHook(ctx context.Context, tx *db.Tx, inc incident.Incident) error {
	if !Qualifies(s.settings(), inc.Severity, inc.Services) {
		return nil
	}
	_, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: JobGenerate, Key: fmt.Sprintf("%s:%d", JobGenerate, inc.ID),
		Payload: generatePayload{IncidentID: inc.ID}})
	return err
}

func (s *Service) runGenerate(ctx context.Context, j engine.Job) error {
	var p generatePayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.IncidentID == 0 {
		return engine.Permanent(fmt.Errorf("bad payload %s", j.Payload))
	}
	_, _, err := s.Generate(ctx, p.IncidentID)
	if tandem.ErrorCode(err) == tandem.ENotFound {
		return engine.Permanent(err)
	}
	return err
}

// Generate writes and stores the incident's postmortem (as a draft) unless
// it has one; created says which. A template failure does not fail it: the
// postmortem is stored with the failure marked and in RenderError, and the
// failure is logged.
func (s *Service) Generate(ctx context.Context, incidentID int64) (Postmortem, bool, error) {
	now := s.Clock.Now()
	if p, err := s.Store.ByIncident(ctx, incidentID, now); err == nil {
		return p, false, nil
	}
	inc, err := s.Incidents.Get(ctx, incidentID)
	if err != nil {
		return Postmortem{}, false, err
	}
	events, err := s.Incidents.Timeline(ctx, incidentID)
	if err != nil {
		return Postmortem{}, false, err
	}
	st := s.settings()
	cat := s.catalog()
	in := Inputs{Incident: inc, Events: events, RevenuePerMinute: map[string]float64{}, Now: now}
	for _, svc := range inc.Services {
		if cs, ok := cat.Service(svc); ok {
			in.RevenuePerMinute[svc] = cs.RevenuePerMinute
			if in.Team == "" {
				in.Team = cs.Team
			}
		}
	}
	end := now
	if inc.ResolvedAt != nil {
		end = *inc.ResolvedAt
	} else if inc.ClosedAt != nil {
		end = *inc.ClosedAt
	}
	if s.Changes != nil {
		during := end.Sub(inc.StartedAt)
		if during < 0 {
			during = 0
		}
		// Only the incident's environment, as its suspects: a staging change
		// never suspects a production incident.
		cs, err := s.Changes.AroundIn(ctx, inc.Environment(), inc.Services, inc.StartedAt, st.Lookback, during)
		if err != nil {
			return Postmortem{}, false, fmt.Errorf("changes around incident %d: %w", incidentID, err)
		}
		in.Changes = cs
	}
	if s.Budgets != nil && end.After(inc.StartedAt) {
		imp, err := s.Budgets.BudgetConsumed(ctx, inc.Services, inc.StartedAt, end)
		if err != nil {
			// The postmortem is still worth writing; say what is missing.
			s.log().Warn("postmortem: error budget impact unavailable", "incident", incidentID, "err", err)
		} else {
			in.SLOs = imp
		}
	}
	in.Extra = map[string]string{}
	for k, v := range st.Extra[""] {
		in.Extra[k] = v
	}
	for k, v := range st.Extra[in.Team] {
		in.Extra[k] = v
	}
	tmpl := st.Templates.For(in.Team)
	md, rerr := Render(tmpl, BuildData(in))
	p := Postmortem{IncidentID: inc.ID, Title: inc.Title, Team: in.Team, Template: tmpl.Name(), Markdown: md}
	if rerr != nil {
		p.RenderError = rerr.Error()
		s.log().Error("postmortem: template failed; stored with the error marked", "incident", incidentID, "template", tmpl.Name(), "err", rerr)
	}
	out, created, err := s.Store.Create(ctx, p, now)
	if err == nil && created {
		s.mu.Lock()
		fs := append([]func(Postmortem){}, s.created...)
		s.mu.Unlock()
		for _, f := range fs {
			f(out)
		}
	}
	return out, created, err
}

type publishPayload struct {
	ID      int64 `json:"postmortem_id"`
	Version int   `json:"version"`
}

// PublishMaxAttempts bounds a publishing job's runs: with the engine's
// backoff capped at 10 minutes, about a week of outage.
const PublishMaxAttempts = 1000

// Save changes a postmortem (Markdown and/or status). Becoming published,
// or saving while published, enqueues the publishing job in the same
// transaction.
func (s *Service) Save(ctx context.Context, id int64, u Update) (Postmortem, error) {
	now := s.Clock.Now()
	return s.Store.Save(ctx, id, u, now, func(tx *db.Tx, p Postmortem) error {
		st := s.settings()
		if st.Directory == "" && st.GitHub == nil {
			// Nothing to publish to: published is a status only.
			_, err := tx.Exec(ctx, `UPDATE postmortems SET published_at = ?, published_version = ? WHERE id = ?`, db.Millis(now), p.Version, p.ID)
			return err
		}
		_, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: JobPublish,
			Key:     fmt.Sprintf("%s:%d:%d:%d", JobPublish, p.ID, p.Version, now.UnixMilli()),
			Payload: publishPayload{ID: p.ID, Version: p.Version}, MaxAttempts: PublishMaxAttempts})
		return err
	})
}

func (s *Service) runPublish(ctx context.Context, j engine.Job) error {
	var p publishPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.ID == 0 {
		return engine.Permanent(fmt.Errorf("bad payload %s", j.Payload))
	}
	err := s.Publish(ctx, p.ID)
	var ge *github.Error
	if errors.As(err, &ge) && !ge.Retryable {
		return engine.Permanent(err)
	}
	if tandem.ErrorCode(err) == tandem.ENotFound {
		return engine.Permanent(err)
	}
	return err
}

// Publish writes the postmortem's current Markdown to the directory and to
// its GitHub issue, as configured. It is idempotent: the file is replaced
// atomically, the issue is created once (its number is stored; after an
// attempt whose outcome is unknown, the issue is looked for by its marker
// before another is created) and updated afterwards.
func (s *Service) Publish(ctx context.Context, id int64) error {
	now := s.Clock.Now()
	p, err := s.Store.Get(ctx, id, now)
	if err != nil {
		return err
	}
	st := s.settings()
	var path string
	if st.Directory != "" {
		if path, err = writeFile(st.Directory, p); err != nil {
			return err
		}
	}
	if gh := st.GitHub; gh != nil {
		title, body := IssueTitle(p.Title), IssueBody(p.Markdown, p.ID)
		switch {
		case p.GitHubIssue != 0:
			if _, err := gh.UpdateIssue(ctx, p.GitHubIssue, title, body); err != nil {
				return err
			}
		default:
			found := false
			if !p.githubAttemptedAt.IsZero() {
				is, ok, err := gh.FindIssue(ctx, IssueMarker(p.ID), p.githubAttemptedAt.Add(-5*time.Minute))
				if err != nil {
					return err
				}
				if ok {
					found = true
					if err := s.Store.SetGitHubIssue(ctx, p.ID, is.Number, is.HTMLURL); err != nil {
						return err
					}
					if is.Body != body {
						if _, err := gh.UpdateIssue(ctx, is.Number, title, body); err != nil {
							return err
						}
					}
				}
			}
			if !found {
				if err := s.Store.MarkGitHubAttempt(ctx, p.ID, now); err != nil {
					return err
				}
				is, err := gh.CreateIssue(ctx, title, body)
				if err != nil {
					return err
				}
				if err := s.Store.SetGitHubIssue(ctx, p.ID, is.Number, is.HTMLURL); err != nil {
					return err
				}
			}
		}
	}
	return s.Store.SetPublished(ctx, p.ID, p.Version, path, now)
}

var slugRe = regexp.MustCompile(`[^a-z0-9]+`)

// FileName is the published file's name:
// YYYY-MM-DD-incident-<id>-<slug of the title>.md (the creation day).
func FileName(p Postmortem) string {
	slug := strings.Trim(slugRe.ReplaceAllString(strings.ToLower(p.Title), "-"), "-")
	if len(slug) > 60 {
		slug = strings.TrimRight(slug[:60], "-")
	}
	return fmt.Sprintf("%s-incident-%d-%s.md", p.CreatedAt.UTC().Format("2006-01-02"), p.IncidentID, slug)
}

func writeFile(dir string, p Postmortem) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("postmortem directory: %w", err)
	}
	path := filepath.Join(dir, FileName(p))
	tmp, err := os.CreateTemp(dir, ".postmortem-*")
	if err != nil {
		return "", fmt.Errorf("postmortem file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(p.Markdown); err != nil {
		tmp.Close()
		return "", fmt.Errorf("postmortem file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("postmortem file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("postmortem file: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("postmortem file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("postmortem file: %w", err)
	}
	return path, nil
}

type remindPayload struct {
	ItemID int64 `json:"item_id"`
}

// EnqueueReminders enqueues one reminder job per overdue action item with
// an owner, at most one per item per day (the day is in the job key). It
// returns how many were new.
func (s *Service) EnqueueReminders(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	items, err := s.Store.ListItems(ctx, ItemFilter{Overdue: true}, now)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.Store.db.InTx(ctx, func(tx *db.Tx) error {
		for _, it := range items {
			if it.Owner == "" {
				continue
			}
			ok, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: JobRemind,
				Key: fmt.Sprintf("%s:%d:%s", JobRemind, it.ID, now.UTC().Format("2006-01-02")), Payload: remindPayload{ItemID: it.ID}})
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	return n, err
}

func (s *Service) runRemind(ctx context.Context, j engine.Job) error {
	var p remindPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.ItemID == 0 {
		return engine.Permanent(fmt.Errorf("bad payload %s", j.Payload))
	}
	now := s.Clock.Now()
	it, err := s.Store.GetItem(ctx, p.ItemID, now)
	if err != nil {
		return engine.Permanent(err)
	}
	if !it.Overdue || s.Notifier == nil {
		return nil
	}
	title := ""
	if it.PostmortemID != 0 {
		if pm, err := s.Store.Get(ctx, it.PostmortemID, now); err == nil {
			title = pm.Title
		}
	}
	if err := s.Notifier.NotifyOwner(ctx, it, title); err != nil {
		return err
	}
	return s.Store.MarkNotified(ctx, it.ID, now)
}

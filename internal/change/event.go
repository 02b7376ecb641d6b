// Package change records what changes production — deploys, rollbacks,
// config changes, migrations, feature flags and chaos experiments — and the
// commits they ship, so DORA metrics (internal/dora) and incident suspects can
// be computed from them.
//
// Events come in through the API and CLI, GitHub webhooks (deployment_status,
// push, workflow_run; see ParseGitHub) and git tags (ImportTags). Every event
// has an idempotency key (Source, ExternalID): the same key is stored once,
// and recording it again answers with the first record.
//
// The contract other capabilities code against:
//
//	NewStore(d) *Store
//	(*Store).Record(ctx, events, now) ([]Event, error)   batch, all-or-nothing, idempotent
//	(*Store).List(ctx, Filter) ([]Event, error)
//	(*Store).Get(ctx, id) (Event, error)
//	(*Store).SetStatus(ctx, id, status, reason, now) (Event, error)
//	(*Store).Around(ctx, services, at, before, after) ([]Event, error)
package change

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
)

// Kinds of change.
const (
	KindDeploy    = "deploy"
	KindRollback  = "rollback"
	KindConfig    = "config"
	KindMigration = "migration"
	KindFlag      = "flag"
	KindChaos     = "chaos"
	// KindBackup is a database backup taken before a change; the migration
	// gate's --backup-step looks for one.
	KindBackup = "backup"
	// KindCanary is one step of a progressive delivery (a Flagger canary
	// webhook call and the gate's verdict on it); DORA counts deploys,
	// not their steps.
	KindCanary = "canary"
)

// Kinds lists every kind, in the order documentation shows them.
var Kinds = []string{KindDeploy, KindRollback, KindConfig, KindMigration, KindFlag, KindChaos, KindBackup, KindCanary}

// Statuses of a change.
const (
	StatusSuccess    = "success"
	StatusFailed     = "failed"
	StatusRolledBack = "rolled_back"
	StatusInProgress = "in_progress"
)

// Statuses lists every status.
var Statuses = []string{StatusSuccess, StatusFailed, StatusRolledBack, StatusInProgress}

// LabelHotfix marks a deploy as an unplanned fix (it counts toward rework).
const LabelHotfix = "hotfix"

// SourceAPI is the source of events recorded without one (API, CLI).
const SourceAPI = "api"

// MaxFuture is how far in the future an event's times may lie (clock skew
// between a CI runner and the server); anything later is rejected.
const MaxFuture = 5 * time.Minute

// Event is one change to production.
type Event struct {
	// ID is assigned by the store.
	ID int64 `json:"id"`
	// Service is a service of the catalog (required).
	Service string `json:"service"`
	// Environment defaults to "production".
	Environment string `json:"environment"`
	// Kind is one of Kinds (default "deploy").
	Kind string `json:"kind"`
	// Version is the released version, free text ("1.2.3", an image tag).
	Version string `json:"version,omitempty"`
	// Commit is the SHA of the deployed head.
	Commit string `json:"commit,omitempty"`
	// Commits are the SHAs the change ships, where known (head included or
	// not); their times are recorded with Store.RecordCommits.
	Commits []string `json:"commits,omitempty"`
	// StartedAt and FinishedAt bound the change; at least one is set after
	// Record (FinishedAt stays zero while a change is in progress).
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Status is one of Statuses (default "success", or "in_progress" when
	// only StartedAt is given).
	Status string `json:"status"`
	// Actor is who or what made the change.
	Actor string `json:"actor,omitempty"`
	// Source names where the event came from ("api", "github", "git");
	// with ExternalID it is the idempotency key.
	Source     string `json:"source"`
	ExternalID string `json:"external_id,omitempty"`
	// Links point at the CI run, the pull request, a dashboard.
	Links map[string]string `json:"links,omitempty"`
	// Labels are free tags; "hotfix" marks an unplanned fix.
	Labels []string `json:"labels,omitempty"`
	// GitHubDeploymentID is the id of the GitHub deployment this change is
	// (0: none): recorded from deployment_status webhooks or given with the
	// API and CLI, so verification can post a deployment status to it.
	GitHubDeploymentID int64 `json:"github_deployment_id,omitempty"`
	// Verify asks for post-deploy verification (the gate capability reads
	// it and may mark the deploy failed with SetStatus).
	Verify bool `json:"verify,omitempty"`
	// FailureReason says why a change failed, when it did.
	FailureReason string `json:"failure_reason,omitempty"`
	// DurationMs is FinishedAt - StartedAt when both are known.
	DurationMs int64 `json:"duration_ms,omitempty"`
	// CreatedAt and UpdatedAt are when the store wrote the record.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Existing is set on answers of Record when the idempotency key was
	// already stored: the record is the first one and nothing was written.
	Existing bool `json:"existing,omitempty"`
}

// At is the event's moment: FinishedAt, else StartedAt, else CreatedAt.
func (e Event) At() time.Time {
	switch {
	case !e.FinishedAt.IsZero():
		return e.FinishedAt
	case !e.StartedAt.IsZero():
		return e.StartedAt
	}
	return e.CreatedAt
}

// HasLabel reports whether the event carries the label (case-insensitive).
func (e Event) HasLabel(l string) bool {
	return slices.ContainsFunc(e.Labels, func(x string) bool { return strings.EqualFold(x, l) })
}

// Failed reports whether the change did not succeed.
func (e Event) Failed() bool { return e.Status == StatusFailed || e.Status == StatusRolledBack }

var (
	shaRe   = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)
	labelRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,62}$`)
)

// Limits on free-text fields.
const (
	maxText    = 512
	maxCommits = 10000
	maxLabels  = 32
	maxLinks   = 32
)

// Normalize fills defaults and checks the event, as Record does. prefix is
// put before field names in errors ("events[3]." for a batch item). It
// returns an *tandem.Error with code invalid naming the field. It does not
// check that the service exists in the catalog; the API does.
func (e *Event) Normalize(prefix string, now time.Time) error {
	f := func(name string) string { return prefix + name }
	e.Service = strings.TrimSpace(e.Service)
	if e.Service == "" {
		return tandem.FieldErrorf(f("service"), "required")
	}
	if len(e.Service) > 128 {
		return tandem.FieldErrorf(f("service"), "longer than 128 characters")
	}
	if e.Environment == "" {
		e.Environment = catalog.DefaultEnvironment
	}
	if len(e.Environment) > 64 || strings.ContainsAny(e.Environment, " \t\n") {
		return tandem.FieldErrorf(f("environment"), "want a name of at most 64 characters without spaces, got %q", e.Environment)
	}
	if e.Kind == "" {
		e.Kind = KindDeploy
	}
	if e.GitHubDeploymentID < 0 {
		return tandem.FieldErrorf(f("github_deployment_id"), "want a GitHub deployment id (a positive integer), got %d", e.GitHubDeploymentID)
	}
	if !slices.Contains(Kinds, e.Kind) {
		return tandem.FieldErrorf(f("kind"), "unknown kind %q: want one of %s", e.Kind, strings.Join(Kinds, ", "))
	}
	if e.Commit != "" && !shaRe.MatchString(e.Commit) {
		return tandem.FieldErrorf(f("commit"), "want a git SHA (7 to 64 hex digits), got %q", clip(e.Commit))
	}
	if len(e.Commits) > maxCommits {
		return tandem.FieldErrorf(f("commits"), "more than %d commits", maxCommits)
	}
	for i, c := range e.Commits {
		if !shaRe.MatchString(c) {
			return tandem.FieldErrorf(fmt.Sprintf("%scommits[%d]", prefix, i), "want a git SHA (7 to 64 hex digits), got %q", clip(c))
		}
	}
	e.Commit = strings.ToLower(e.Commit)
	for i := range e.Commits {
		e.Commits[i] = strings.ToLower(e.Commits[i])
	}
	limit := now.Add(MaxFuture)
	if e.StartedAt.After(limit) {
		return tandem.FieldErrorf(f("started_at"), "%s is more than %s in the future", e.StartedAt.Format(time.RFC3339), MaxFuture)
	}
	if e.FinishedAt.After(limit) {
		return tandem.FieldErrorf(f("finished_at"), "%s is more than %s in the future", e.FinishedAt.Format(time.RFC3339), MaxFuture)
	}
	if !e.StartedAt.IsZero() && !e.FinishedAt.IsZero() && e.FinishedAt.Before(e.StartedAt) {
		return tandem.FieldErrorf(f("finished_at"), "before started_at")
	}
	if e.StartedAt.Year() < 1971 && !e.StartedAt.IsZero() {
		return tandem.FieldErrorf(f("started_at"), "before 1971")
	}
	if e.FinishedAt.Year() < 1971 && !e.FinishedAt.IsZero() {
		return tandem.FieldErrorf(f("finished_at"), "before 1971")
	}
	if e.Status == "" {
		if e.FinishedAt.IsZero() && !e.StartedAt.IsZero() {
			e.Status = StatusInProgress
		} else {
			e.Status = StatusSuccess
		}
	}
	if !slices.Contains(Statuses, e.Status) {
		return tandem.FieldErrorf(f("status"), "unknown status %q: want one of %s", e.Status, strings.Join(Statuses, ", "))
	}
	if e.StartedAt.IsZero() && e.FinishedAt.IsZero() {
		if e.Status == StatusInProgress {
			e.StartedAt = now
		} else {
			e.FinishedAt = now
		}
	}
	if e.Status != StatusInProgress && e.FinishedAt.IsZero() {
		return tandem.FieldErrorf(f("finished_at"), "required when status is %s (only in_progress changes have no finish)", e.Status)
	}
	if e.Status == StatusInProgress && !e.FinishedAt.IsZero() {
		return tandem.FieldErrorf(f("status"), "in_progress but finished_at is set")
	}
	e.StartedAt, e.FinishedAt = trunc(e.StartedAt), trunc(e.FinishedAt)
	if e.Source == "" {
		e.Source = SourceAPI
	}
	for name, v := range map[string]string{"version": e.Version, "actor": e.Actor, "source": e.Source, "external_id": e.ExternalID, "failure_reason": e.FailureReason} {
		if len(v) > maxText {
			return tandem.FieldErrorf(f(name), "longer than %d characters", maxText)
		}
	}
	if len(e.Labels) > maxLabels {
		return tandem.FieldErrorf(f("labels"), "more than %d labels", maxLabels)
	}
	for i, l := range e.Labels {
		if !labelRe.MatchString(l) {
			return tandem.FieldErrorf(fmt.Sprintf("%slabels[%d]", prefix, i), "want letters, digits and ._:/- (at most 63), got %q", clip(l))
		}
	}
	if len(e.Links) > maxLinks {
		return tandem.FieldErrorf(f("links"), "more than %d links", maxLinks)
	}
	for k, v := range e.Links {
		if k == "" || len(k) > 64 || len(v) > 2048 {
			return tandem.FieldErrorf(f("links."+clip(k)), "link names are 1 to 64 characters and URLs at most 2048")
		}
	}
	e.ID = 0
	e.Existing = false
	e.DurationMs = duration(e.StartedAt, e.FinishedAt)
	return nil
}

func duration(start, finish time.Time) int64 {
	if start.IsZero() || finish.IsZero() {
		return 0
	}
	return finish.Sub(start).Milliseconds()
}

// trunc drops what the store cannot keep (below a millisecond, the zone).
func trunc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Millisecond).UTC()
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Commit is a commit with its time, for lead time.
type Commit struct {
	// Service is the service whose repository holds the commit.
	Service string `json:"service"`
	// SHA is the full or abbreviated commit hash.
	SHA string `json:"sha"`
	// CommittedAt is the commit's time (the committer date).
	CommittedAt time.Time `json:"committed_at"`
	// MergedAt, when known, is when the pull request holding the commit
	// was merged; lead time then starts there.
	MergedAt time.Time `json:"merged_at,omitzero"`
	// Source names where the commit came from ("github", "git", "api").
	Source string `json:"source,omitempty"`
}

// Normalize checks a commit; prefix is put before field names in errors.
func (c *Commit) Normalize(prefix string, now time.Time) error {
	c.Service = strings.TrimSpace(c.Service)
	if c.Service == "" {
		return tandem.FieldErrorf(prefix+"service", "required")
	}
	if !shaRe.MatchString(c.SHA) {
		return tandem.FieldErrorf(prefix+"sha", "want a git SHA (7 to 64 hex digits), got %q", clip(c.SHA))
	}
	c.SHA = strings.ToLower(c.SHA)
	if c.CommittedAt.IsZero() {
		return tandem.FieldErrorf(prefix+"committed_at", "required")
	}
	if c.CommittedAt.Year() < 1971 {
		return tandem.FieldErrorf(prefix+"committed_at", "before 1971")
	}
	if c.CommittedAt.After(now.Add(MaxFuture)) {
		return tandem.FieldErrorf(prefix+"committed_at", "more than %s in the future", MaxFuture)
	}
	if c.MergedAt.After(now.Add(MaxFuture)) {
		return tandem.FieldErrorf(prefix+"merged_at", "more than %s in the future", MaxFuture)
	}
	if len(c.Source) > 64 {
		return tandem.FieldErrorf(prefix+"source", "longer than 64 characters")
	}
	c.CommittedAt, c.MergedAt = trunc(c.CommittedAt), trunc(c.MergedAt)
	return nil
}

// LeadStart is when lead time starts for the commit: the merge, when known,
// else the commit.
func (c Commit) LeadStart() time.Time {
	if !c.MergedAt.IsZero() {
		return c.MergedAt
	}
	return c.CommittedAt
}

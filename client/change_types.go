package client

import (
	"time"
)

// ChangeEvent is one change to production.
type ChangeEvent struct {
	// ID is assigned by the store.
	ID int64 `json:"id"`
	// Service is a service of the catalog (required).
	Service string `json:"service"`
	// Environment defaults to "production".
	Environment string `json:"environment"`
	// Kind is deploy, rollback, config, migration, flag, chaos, backup or
	// canary (default "deploy").
	Kind string `json:"kind"`
	// Version is the released version, free text ("1.2.3", an image tag).
	Version string `json:"version,omitempty"`
	// Commit is the SHA of the deployed head.
	Commit string `json:"commit,omitempty"`
	// Commits are the SHAs the change ships, where known (head included or
	// not); their times are recorded with Client.RecordCommits.
	Commits []string `json:"commits,omitempty"`
	// StartedAt and FinishedAt bound the change; at least one is set after
	// Record (FinishedAt stays zero while a change is in progress).
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Status is success, failed, rolled_back or in_progress (default "success", or "in_progress" when
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
	// (0: none), so verification can post a deployment status to it.
	GitHubDeploymentID int64 `json:"github_deployment_id,omitempty"`
	// Verify asks for post-deploy verification (the gate capability reads
	// it and may mark the deploy failed).
	Verify bool `json:"verify,omitempty"`
	// FailureReason says why a change failed, when it did.
	FailureReason string `json:"failure_reason,omitempty"`
	// DurationMs is FinishedAt - StartedAt when both are known.
	DurationMs int64 `json:"duration_ms,omitempty"`
	// CreatedAt and UpdatedAt are when the store wrote the record.
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Existing is set on answers of RecordChange when the idempotency key was
	// already stored: the record is the first one and nothing was written.
	Existing bool `json:"existing,omitempty"`
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

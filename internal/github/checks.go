package github

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// Check run statuses and conclusions, as GitHub's REST API names them.
const (
	CheckCompleted = "completed"

	ConclusionSuccess = "success"
	ConclusionFailure = "failure"
	ConclusionNeutral = "neutral"
)

// Deployment status states tandem posts.
const (
	DeploymentSuccess = "success"
	DeploymentFailure = "failure"
	DeploymentError   = "error"
)

// Limits GitHub documents: a check run's output summary and text hold at
// most 65535 characters each, a deployment status description 140.
const (
	MaxOutputChars      = 65535
	MaxDescriptionChars = 140
)

// CheckRun is the body of "Create a check run" (POST
// /repos/{owner}/{repo}/check-runs) for a run created completed.
type CheckRun struct {
	// Name (required) is the check's name; HeadSHA (required) the commit.
	Name    string `json:"name"`
	HeadSHA string `json:"head_sha"`
	// DetailsURL links to the full details on the integrator's site.
	DetailsURL string `json:"details_url,omitempty"`
	// ExternalID is the run's reference on the integrator's system.
	ExternalID string `json:"external_id,omitempty"`
	// Status is "completed" for a run created with its conclusion.
	Status string `json:"status"`
	// Conclusion is required with status completed: success, failure,
	// neutral, …
	Conclusion string `json:"conclusion,omitempty"`
	// StartedAt and CompletedAt are ISO 8601 timestamps
	// (YYYY-MM-DDTHH:MM:SSZ, see Timestamp).
	StartedAt   string       `json:"started_at,omitempty"`
	CompletedAt string       `json:"completed_at,omitempty"`
	Output      *CheckOutput `json:"output,omitempty"`
}

// CheckOutput is a check run's output: title and summary are required;
// summary and text are Markdown of at most MaxOutputChars characters.
type CheckOutput struct {
	Title   string `json:"title"`
	Summary string `json:"summary"`
	Text    string `json:"text,omitempty"`
}

// CheckRunRef is the part of a check run answer tandem reads.
type CheckRunRef struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	HeadSHA    string `json:"head_sha"`
	ExternalID string `json:"external_id"`
	HTMLURL    string `json:"html_url"`
	Conclusion string `json:"conclusion"`
}

// Timestamp formats t as GitHub's check runs want it: UTC, whole seconds,
// YYYY-MM-DDTHH:MM:SSZ.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Clip cuts s to at most n characters (runes), ending it with "…" when
// it was cut.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// CreateCheckRun creates a check run on repo ("owner/name"). GitHub
// answers 201 with the run. Errors are *Error: 422 for a SHA the
// repository does not have, 404 for a repository the token cannot see,
// 403 for a token that may not write checks (only GitHub App tokens may).
func (c *Client) CreateCheckRun(ctx context.Context, repo string, run CheckRun) (CheckRunRef, error) {
	p, err := RepoPath(repo)
	if err != nil {
		return CheckRunRef{}, &Error{Message: err.Error()}
	}
	var out CheckRunRef
	_, err = c.Do(ctx, http.MethodPost, c.URL(p+"/check-runs"), run, &out)
	return out, err
}

// FindCheckRun looks among the check runs named name on ref (a SHA) of
// repo ("List check runs for a Git reference", GET
// /repos/{owner}/{repo}/commits/{ref}/check-runs, every page) for the one
// whose external_id is externalID; ok is false when there is none.
func (c *Client) FindCheckRun(ctx context.Context, repo, ref, name, externalID string) (run CheckRunRef, ok bool, err error) {
	p, err := RepoPath(repo)
	if err != nil {
		return CheckRunRef{}, false, &Error{Message: err.Error()}
	}
	q := url.Values{"check_name": {name}, "filter": {"all"}, "per_page": {"100"}}
	u := c.URL(p + "/commits/" + url.PathEscape(ref) + "/check-runs?" + q.Encode())
	for page := 0; u != "" && page < 20; page++ {
		var out struct {
			TotalCount int           `json:"total_count"`
			CheckRuns  []CheckRunRef `json:"check_runs"`
		}
		h, err := c.Do(ctx, http.MethodGet, u, nil, &out)
		if err != nil {
			return CheckRunRef{}, false, err
		}
		for _, r := range out.CheckRuns {
			if r.ExternalID == externalID {
				return r, true, nil
			}
		}
		u = Next(h)
	}
	return CheckRunRef{}, false, nil
}

// DeploymentStatus is the body of "Create a deployment status" (POST
// /repos/{owner}/{repo}/deployments/{deployment_id}/statuses).
type DeploymentStatus struct {
	// State (required): error, failure, inactive, in_progress, queued,
	// pending or success.
	State string `json:"state"`
	// LogURL is the full URL of the deployment's output (it replaces
	// target_url, which GitHub sets to the same value).
	LogURL string `json:"log_url,omitempty"`
	// Description is at most MaxDescriptionChars characters.
	Description string `json:"description,omitempty"`
	// Environment renames the deployment's environment; EnvironmentURL
	// is where the environment is reached.
	Environment    string `json:"environment,omitempty"`
	EnvironmentURL string `json:"environment_url,omitempty"`
	// AutoInactive marks earlier successful deployments of the
	// environment inactive (GitHub's default: true). Nil leaves GitHub's
	// default.
	AutoInactive *bool `json:"auto_inactive,omitempty"`
}

// CreateDeploymentStatus posts a status of deployment id on repo and
// returns the status's id. Errors are *Error (404: no such deployment, or
// a repository the token cannot see).
func (c *Client) CreateDeploymentStatus(ctx context.Context, repo string, id int64, s DeploymentStatus) (int64, error) {
	p, err := RepoPath(repo)
	if err != nil {
		return 0, &Error{Message: err.Error()}
	}
	var out struct {
		ID int64 `json:"id"`
	}
	_, err = c.Do(ctx, http.MethodPost, c.URL(p+"/deployments/"+strconv.FormatInt(id, 10)+"/statuses"), s, &out)
	return out.ID, err
}

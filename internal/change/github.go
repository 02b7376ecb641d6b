package change

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// SignatureHeader is the header GitHub signs webhook bodies in.
const SignatureHeader = "X-Hub-Signature-256"

// SourceGitHub is the source of events from GitHub webhooks.
const SourceGitHub = "github"

// VerifySignature reports whether header (the X-Hub-Signature-256 value,
// "sha256=" and the hex HMAC-SHA256 of body keyed with secret) is right. An
// empty secret verifies nothing. The comparison takes constant time.
func VerifySignature(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value for body, as GitHub computes it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// GitHubOptions says how webhook payloads map onto tandem.
type GitHubOptions struct {
	// Service returns the catalog service of a repository, given its
	// full name ("owner/name") and HTML URL; ok is false when none.
	Service func(fullName, htmlURL string) (service string, ok bool)
	// DeployWorkflows names the workflows whose runs are deploys
	// (workflow_run events of other workflows are ignored).
	DeployWorkflows []string
	// WorkflowEnvironment is the environment of workflow-run deploys
	// (default production).
	WorkflowEnvironment string
	// Environments renames GitHub environments ("prod" -> "production").
	Environments map[string]string
}

// GitHubResult is what one webhook delivery means for tandem.
type GitHubResult struct {
	// Events are deploys to record, or whose status to update (see
	// Store.Apply).
	Events []Event
	// Commits are commits with their times, for lead time.
	Commits []Commit
	// Ignored says why a delivery changed nothing ("" when it did).
	Ignored string
}

// Minimal shapes of the documented GitHub webhook payloads: only the
// fields tandem reads. Unknown fields are ignored (GitHub adds them).
type ghRepo struct {
	FullName      string `json:"full_name"`
	Name          string `json:"name"`
	HTMLURL       string `json:"html_url"`
	DefaultBranch string `json:"default_branch"`
}

type ghUser struct {
	Login string `json:"login"`
}

type ghDeploymentStatusEvent struct {
	Action           string `json:"action"`
	DeploymentStatus struct {
		ID          int64      `json:"id"`
		State       string     `json:"state"`
		Description string     `json:"description"`
		Environment string     `json:"environment"`
		TargetURL   string     `json:"target_url"`
		LogURL      string     `json:"log_url"`
		CreatedAt   *time.Time `json:"created_at"`
		UpdatedAt   *time.Time `json:"updated_at"`
		Creator     *ghUser    `json:"creator"`
	} `json:"deployment_status"`
	Deployment struct {
		ID          int64      `json:"id"`
		SHA         string     `json:"sha"`
		Ref         string     `json:"ref"`
		Task        string     `json:"task"`
		Environment string     `json:"environment"`
		Description string     `json:"description"`
		CreatedAt   *time.Time `json:"created_at"`
		Creator     *ghUser    `json:"creator"`
		URL         string     `json:"url"`
	} `json:"deployment"`
	Repository *ghRepo `json:"repository"`
	Sender     *ghUser `json:"sender"`
}

type ghPushEvent struct {
	Ref     string `json:"ref"`
	After   string `json:"after"`
	Deleted bool   `json:"deleted"`
	Commits []struct {
		ID        string `json:"id"`
		Timestamp string `json:"timestamp"`
		Distinct  bool   `json:"distinct"`
	} `json:"commits"`
	Repository *ghRepo `json:"repository"`
}

type ghPullRequestEvent struct {
	Action      string `json:"action"`
	PullRequest struct {
		Merged         bool       `json:"merged"`
		MergedAt       *time.Time `json:"merged_at"`
		MergeCommitSHA string     `json:"merge_commit_sha"`
		Head           struct {
			SHA string `json:"sha"`
		} `json:"head"`
		Base struct {
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
	Repository *ghRepo `json:"repository"`
}

type ghWorkflowRunEvent struct {
	Action      string `json:"action"`
	WorkflowRun struct {
		ID           int64      `json:"id"`
		Name         string     `json:"name"`
		HeadBranch   string     `json:"head_branch"`
		HeadSHA      string     `json:"head_sha"`
		Path         string     `json:"path"`
		RunAttempt   int        `json:"run_attempt"`
		Event        string     `json:"event"`
		Status       string     `json:"status"`
		Conclusion   *string    `json:"conclusion"`
		HTMLURL      string     `json:"html_url"`
		CreatedAt    *time.Time `json:"created_at"`
		UpdatedAt    *time.Time `json:"updated_at"`
		RunStartedAt *time.Time `json:"run_started_at"`
		Actor        *ghUser    `json:"actor"`
	} `json:"workflow_run"`
	Repository *ghRepo `json:"repository"`
}

// ParseGitHub reads one webhook delivery (event is the X-GitHub-Event
// header). It understands deployment_status, push, pull_request (merges),
// workflow_run and ping;
// other events are ignored. A payload that is not the documented shape gets
// an *tandem.Error with code invalid; a repository that maps to no service
// gets code unprocessable.
func ParseGitHub(event string, body []byte, o GitHubOptions) (GitHubResult, error) {
	switch event {
	case "ping":
		return GitHubResult{Ignored: "ping"}, nil
	case "deployment_status":
		var p ghDeploymentStatusEvent
		if err := unmarshal(body, &p); err != nil {
			return GitHubResult{}, err
		}
		return o.deploymentStatus(p)
	case "push":
		var p ghPushEvent
		if err := unmarshal(body, &p); err != nil {
			return GitHubResult{}, err
		}
		return o.push(p)
	case "pull_request":
		var p ghPullRequestEvent
		if err := unmarshal(body, &p); err != nil {
			return GitHubResult{}, err
		}
		return o.pullRequest(p)
	case "workflow_run":
		var p ghWorkflowRunEvent
		if err := unmarshal(body, &p); err != nil {
			return GitHubResult{}, err
		}
		return o.workflowRun(p)
	case "":
		return GitHubResult{}, tandem.FieldErrorf("X-GitHub-Event", "missing header")
	}
	return GitHubResult{Ignored: "event " + event + " is not used"}, nil
}

func unmarshal(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok {
			return tandem.FieldErrorf(te.Field, "wrong type: got JSON %s, want %s", te.Value, te.Type)
		}
		return tandem.Errorf(tandem.EInvalid, "malformed JSON payload: %v", err)
	}
	return nil
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = t
	}
	return ok
}

func (o GitHubOptions) service(r *ghRepo) (string, error) {
	if r == nil || r.FullName == "" {
		return "", tandem.FieldErrorf("repository.full_name", "required")
	}
	if o.Service != nil {
		if s, ok := o.Service(r.FullName, r.HTMLURL); ok {
			return s, nil
		}
	}
	return "", &tandem.Error{Code: tandem.EUnprocessable, Field: "repository.full_name",
		Message: fmt.Sprintf("repository %s maps to no service: add it to github.repositories in the config or set the service's repository", r.FullName)}
}

func (o GitHubOptions) environment(env string) string {
	env = strings.TrimSpace(env)
	if to, ok := o.Environments[env]; ok {
		return to
	}
	if env == "" {
		return "production"
	}
	return strings.ToLower(strings.ReplaceAll(env, " ", "-"))
}

func login(us ...*ghUser) string {
	for _, u := range us {
		if u != nil && u.Login != "" {
			return u.Login
		}
	}
	return ""
}

func tval(ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t != nil && !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

func (o GitHubOptions) deploymentStatus(p ghDeploymentStatusEvent) (GitHubResult, error) {
	svc, err := o.service(p.Repository)
	if err != nil {
		return GitHubResult{}, err
	}
	if p.Deployment.ID <= 0 {
		return GitHubResult{}, tandem.FieldErrorf("deployment.id", "required")
	}
	var status string
	switch p.DeploymentStatus.State {
	case "success":
		status = StatusSuccess
	case "failure", "error":
		status = StatusFailed
	case "pending", "queued", "in_progress":
		status = StatusInProgress
	case "inactive":
		return GitHubResult{Ignored: "inactive deployment status (superseded by a newer deploy)"}, nil
	case "":
		return GitHubResult{}, tandem.FieldErrorf("deployment_status.state", "required")
	default:
		return GitHubResult{}, tandem.FieldErrorf("deployment_status.state", "unknown state %q", p.DeploymentStatus.State)
	}
	e := Event{
		Service:     svc,
		Environment: o.environment(firstNonEmpty(p.Deployment.Environment, p.DeploymentStatus.Environment)),
		Kind:        KindDeploy,
		Version:     p.Deployment.Ref,
		Commit:      p.Deployment.SHA,
		StartedAt:   tval(p.Deployment.CreatedAt),
		Status:      status,
		Actor:       login(p.Deployment.Creator, p.Sender),
		Source:      SourceGitHub,
		ExternalID:  "deployment/" + p.Repository.FullName + "/" + strconv.FormatInt(p.Deployment.ID, 10),
		Links:       map[string]string{},

		GitHubDeploymentID: p.Deployment.ID,
	}
	if status != StatusInProgress {
		e.FinishedAt = tval(p.DeploymentStatus.CreatedAt, p.DeploymentStatus.UpdatedAt)
		if e.FinishedAt.IsZero() {
			return GitHubResult{}, tandem.FieldErrorf("deployment_status.created_at", "required")
		}
		if status == StatusFailed {
			e.FailureReason = firstNonEmpty(p.DeploymentStatus.Description, "deployment "+p.DeploymentStatus.State)
		}
	}
	if u := firstNonEmpty(p.DeploymentStatus.LogURL, p.DeploymentStatus.TargetURL); u != "" {
		e.Links["deployment"] = u
	}
	if len(e.Links) == 0 {
		e.Links = nil
	}
	return GitHubResult{Events: []Event{e}}, nil
}

func (o GitHubOptions) push(p ghPushEvent) (GitHubResult, error) {
	svc, err := o.service(p.Repository)
	if err != nil {
		return GitHubResult{}, err
	}
	if p.Deleted {
		return GitHubResult{Ignored: "branch deleted"}, nil
	}
	if def := p.Repository.DefaultBranch; def != "" && p.Ref != "refs/heads/"+def {
		return GitHubResult{Ignored: "push to " + p.Ref + ", not the default branch " + def}, nil
	}
	var out GitHubResult
	for i, c := range p.Commits {
		t, err := time.Parse(time.RFC3339, c.Timestamp)
		if err != nil {
			return GitHubResult{}, tandem.FieldErrorf(fmt.Sprintf("commits[%d].timestamp", i), "want an ISO 8601 time, got %q", clip(c.Timestamp))
		}
		out.Commits = append(out.Commits, Commit{Service: svc, SHA: c.ID, CommittedAt: t.UTC(), Source: SourceGitHub})
	}
	if len(out.Commits) == 0 {
		out.Ignored = "push without commits"
	}
	return out, nil
}

// pullRequest records the merge time of a merged pull request on its head
// commit and its merge commit: lead time of those commits starts at the
// merge. (The payload does not list the pull request's other commits.)
func (o GitHubOptions) pullRequest(p ghPullRequestEvent) (GitHubResult, error) {
	pr := p.PullRequest
	if p.Action != "closed" || !pr.Merged {
		return GitHubResult{Ignored: "pull request not merged"}, nil
	}
	svc, err := o.service(p.Repository)
	if err != nil {
		return GitHubResult{}, err
	}
	if def := p.Repository.DefaultBranch; def != "" && pr.Base.Ref != def {
		return GitHubResult{Ignored: "merged into " + pr.Base.Ref + ", not the default branch " + def}, nil
	}
	merged := tval(pr.MergedAt)
	if merged.IsZero() {
		return GitHubResult{}, tandem.FieldErrorf("pull_request.merged_at", "required for a merged pull request")
	}
	var out GitHubResult
	for _, sha := range []string{pr.Head.SHA, pr.MergeCommitSHA} {
		if sha != "" {
			// The commit time is unknown here: the merge stands in until a
			// push reports it (the first recorded times are kept, and a
			// merge time is filled in when it was unknown).
			out.Commits = append(out.Commits, Commit{Service: svc, SHA: sha, CommittedAt: merged, MergedAt: merged, Source: SourceGitHub})
		}
	}
	return out, nil
}

func (o GitHubOptions) workflowRun(p ghWorkflowRunEvent) (GitHubResult, error) {
	w := p.WorkflowRun
	if !slices.Contains(o.DeployWorkflows, w.Name) {
		return GitHubResult{Ignored: fmt.Sprintf("workflow %q is not a deploy workflow (github.deploy_workflows)", w.Name)}, nil
	}
	svc, err := o.service(p.Repository)
	if err != nil {
		return GitHubResult{}, err
	}
	if w.ID == 0 {
		return GitHubResult{}, tandem.FieldErrorf("workflow_run.id", "required")
	}
	conclusion := ""
	if w.Conclusion != nil {
		conclusion = *w.Conclusion
	}
	status := StatusInProgress
	reason := ""
	if p.Action == "completed" || w.Status == "completed" {
		switch conclusion {
		case "success":
			status = StatusSuccess
		case "failure", "timed_out", "startup_failure", "action_required":
			status, reason = StatusFailed, "workflow run "+conclusion
		case "cancelled", "skipped", "neutral", "stale":
			return GitHubResult{Ignored: "workflow run " + conclusion + ": nothing was deployed"}, nil
		default:
			return GitHubResult{}, tandem.FieldErrorf("workflow_run.conclusion", "unknown conclusion %q", conclusion)
		}
	}
	attempt := max(w.RunAttempt, 1)
	e := Event{
		Service:       svc,
		Environment:   o.environment(o.WorkflowEnvironment),
		Kind:          KindDeploy,
		Version:       w.HeadBranch,
		Commit:        w.HeadSHA,
		StartedAt:     tval(w.RunStartedAt, w.CreatedAt),
		Status:        status,
		Actor:         login(w.Actor),
		Source:        SourceGitHub,
		ExternalID:    fmt.Sprintf("workflow_run/%s/%d/%d", p.Repository.FullName, w.ID, attempt),
		FailureReason: reason,
	}
	if w.HTMLURL != "" {
		e.Links = map[string]string{"ci": w.HTMLURL}
	}
	if status != StatusInProgress {
		e.FinishedAt = tval(w.UpdatedAt)
		if e.FinishedAt.IsZero() {
			return GitHubResult{}, tandem.FieldErrorf("workflow_run.updated_at", "required")
		}
	}
	return GitHubResult{Events: []Event{e}}, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

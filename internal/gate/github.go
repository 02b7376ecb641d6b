package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/github"
)

// GitHubJobKind is the engine job kind that reports one gate result to
// GitHub: a check run on the commit, and for a verification of a deploy
// recorded with a GitHub deployment id, a deployment status.
const GitHubJobKind = "gate.github"

// GitHubSettings are what GitHub reporting uses at the time a job runs.
type GitHubSettings struct {
	// Client calls GitHub (nil: reporting is off).
	Client *github.Client
	// CheckRuns and DeploymentStatuses say what is posted.
	CheckRuns, DeploymentStatuses bool
	// BaseURL is tandem's public URL ("" : results carry no link back).
	BaseURL string
}

// GitHubReporter posts gate results to GitHub as durable jobs: EnqueueTx
// runs in the transaction that records a result (Store.OnRecorded), and
// HandleJob posts it.
type GitHubReporter struct {
	Results *Store
	Changes *change.Store
	// Settings returns the live settings.
	Settings func() GitHubSettings
	// Repo returns the "owner/name" GitHub repository of a service.
	Repo func(service string) (repo string, ok bool)
	Log  *slog.Logger
}

type githubPayload struct {
	ResultID int64 `json:"result_id"`
}

// GitHubJobKey is the idempotency key of result id's report.
func GitHubJobKey(id int64) string { return GitHubJobKind + ":" + strconv.FormatInt(id, 10) }

// EnqueueTx enqueues the report of r in tx when GitHub reporting is on,
// r's service has a repository, and r has something to attach to: a commit
// or a change. Other results enqueue nothing.
func (g *GitHubReporter) EnqueueTx(ctx context.Context, tx *db.Tx, r Result) error {
	s := g.Settings()
	if s.Client == nil || (!s.CheckRuns && !s.DeploymentStatuses) || (r.Commit == "" && r.ChangeID == 0) {
		return nil
	}
	if _, ok := g.Repo(r.Service); !ok {
		return nil
	}
	_, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: GitHubJobKind, Key: GitHubJobKey(r.ID),
		Payload: githubPayload{r.ID}, MaxAttempts: 8})
	return err
}

var fullSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// HandleJob posts one result. GitHub's answers decide what happens to the
// job: 5xx, 429 and rate limits retry it (after Retry-After or
// x-ratelimit-reset when GitHub gives them); other 4xx (a commit GitHub
// does not have, a repository or deployment the token cannot see, a token
// that may not write checks) fail it at once, with GitHub's message. A
// retry first looks for the check run an earlier attempt may have created
// (by its external id), so a lost answer does not post it twice.
func (g *GitHubReporter) HandleJob(ctx context.Context, j engine.Job) error {
	var p githubPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.ResultID <= 0 {
		return engine.Permanent(fmt.Errorf("bad GitHub report payload %s", j.Payload))
	}
	s := g.Settings()
	if s.Client == nil {
		return engine.Permanent(errors.New("GitHub reporting is no longer configured (gates.github)"))
	}
	r, err := g.Results.Get(ctx, p.ResultID)
	if err != nil {
		if tandem.ErrorCode(err) == tandem.ENotFound {
			return engine.Permanent(err)
		}
		return err
	}
	repo, ok := g.Repo(r.Service)
	if !ok {
		return engine.Permanent(fmt.Errorf("service %q has no GitHub repository (catalog repository or github.repositories)", r.Service))
	}
	var dep change.Event
	if r.ChangeID > 0 {
		if dep, err = g.Changes.Get(ctx, r.ChangeID); err != nil {
			if tandem.ErrorCode(err) == tandem.ENotFound {
				return engine.Permanent(err)
			}
			return err
		}
	}
	sha := r.Commit
	if sha == "" {
		sha = dep.Commit
	}
	var posted []string
	if s.CheckRuns && sha != "" {
		if !fullSHA.MatchString(sha) {
			return engine.Permanent(fmt.Errorf("commit %s is abbreviated: GitHub check runs need the full SHA", sha))
		}
		run := CheckRunFor(r, sha, resultURL(s.BaseURL, r))
		var ref github.CheckRunRef
		found := false
		if j.Attempts > 1 {
			if ref, found, err = s.Client.FindCheckRun(ctx, repo, sha, run.Name, run.ExternalID); err != nil {
				return githubFailure("find the check run of an earlier attempt", err)
			}
		}
		if !found {
			if ref, err = s.Client.CreateCheckRun(ctx, repo, run); err != nil {
				return githubFailure(fmt.Sprintf("create check run on %s@%s", repo, sha[:12]), err)
			}
		}
		posted = append(posted, "check run "+strconv.FormatInt(ref.ID, 10))
	}
	if state, ok := DeploymentState(r); ok && s.DeploymentStatuses && dep.GitHubDeploymentID > 0 {
		st := github.DeploymentStatus{State: state, Description: github.Clip(DeploymentDescription(r), github.MaxDescriptionChars),
			LogURL: resultURL(s.BaseURL, r)}
		id, err := s.Client.CreateDeploymentStatus(ctx, repo, dep.GitHubDeploymentID, st)
		if err != nil {
			return githubFailure(fmt.Sprintf("create a status of deployment %d on %s", dep.GitHubDeploymentID, repo), err)
		}
		posted = append(posted, "deployment status "+strconv.FormatInt(id, 10))
	}
	if g.Log != nil {
		if len(posted) == 0 {
			g.Log.Info("gate result not reported to GitHub: no commit and no GitHub deployment", "result", r.ID, "service", r.Service)
		} else {
			g.Log.Info("gate result reported to GitHub", "result", r.ID, "service", r.Service, "repo", repo, "posted", strings.Join(posted, ", "))
		}
	}
	return nil
}

// githubFailure wraps a GitHub error for the engine: permanent unless a
// retry may help (the *github.Error stays reachable, so the engine honours
// its wait).
func githubFailure(what string, err error) error {
	err = fmt.Errorf("%s: %w", what, err)
	var ge *github.Error
	if errors.As(err, &ge) && !ge.Retryable {
		return engine.Permanent(err)
	}
	return err
}

// resultURL links to the result in tandem's dashboard: the delivery page of
// its service, or "" without a public URL.
func resultURL(base string, r Result) string {
	if base == "" {
		return ""
	}
	q := url.Values{}
	if r.Service != "" {
		q.Set("service", r.Service)
	}
	u := strings.TrimRight(base, "/") + "/delivery"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u + "#deploys"
}

// Conclusion is the GitHub check run conclusion of r: success for a pass
// with at least one check, failure for a fail, and for an inconclusive
// verdict failure when the gate failed closed (it blocked the pipeline),
// neutral when it failed open or is a verification (which blocks
// nothing). A pass without any check measured nothing: neutral, never
// success.
func Conclusion(r Result) string {
	switch r.Verdict {
	case Pass:
		if len(r.Checks) == 0 {
			return github.ConclusionNeutral
		}
		return github.ConclusionSuccess
	case Fail:
		return github.ConclusionFailure
	}
	if r.Kind == KindVerify || r.FailOpen {
		return github.ConclusionNeutral
	}
	return github.ConclusionFailure
}

// DeploymentState is the GitHub deployment status state of a
// verification result: success for pass, failure for fail; ok is false
// for an inconclusive verification (tandem did not decide, and "error"
// would mark the deploy failed when GitHub's deployment_status webhook
// comes back) and for results of other gates.
func DeploymentState(r Result) (state string, ok bool) {
	if r.Kind != KindVerify {
		return "", false
	}
	switch r.Verdict {
	case Pass:
		return github.DeploymentSuccess, len(r.Checks) > 0
	case Fail:
		return github.DeploymentFailure, true
	}
	return "", false
}

// DeploymentDescription is the one line a deployment status carries.
func DeploymentDescription(r Result) string {
	if r.Verdict == Fail {
		var failed []string
		for _, c := range r.Checks {
			if c.Verdict == Fail {
				failed = append(failed, c.Name)
			}
		}
		return "tandem verification failed: " + strings.Join(failed, ", ")
	}
	return fmt.Sprintf("tandem verification passed (%d checks)", len(r.Checks))
}

// checkRunName names the check run of r; one per gate kind and service,
// so a monorepo's services have runs of their own.
func checkRunName(r Result) string {
	kind := map[string]string{KindSLO: "SLO gate", KindMigration: "migration gate", KindVerify: "deploy verification"}[r.Kind]
	if r.Service == "" {
		return "tandem " + kind
	}
	return "tandem " + kind + ": " + r.Service
}

// CheckRunFor is the completed check run that reports r on commit sha:
// its conclusion (see Conclusion), a title with the verdict, a summary
// with the result's message and provenance, and the checks as a Markdown
// table in which a check without data reads "no data" and why, never a
// number.
func CheckRunFor(r Result, sha, detailsURL string) github.CheckRun {
	concl := Conclusion(r)
	counts := map[string]int{}
	for _, c := range r.Checks {
		counts[c.Verdict]++
	}
	title := strings.ToUpper(r.Verdict)
	switch {
	case len(r.Checks) == 0:
		title += ": no checks ran"
	case r.Verdict == Fail:
		title += fmt.Sprintf(": %d of %d checks failed", counts[Fail], len(r.Checks))
	case r.Verdict == Inconclusive:
		title += fmt.Sprintf(": %d of %d checks could not decide", counts[Inconclusive], len(r.Checks))
	default:
		title += fmt.Sprintf(": %d checks passed", len(r.Checks))
	}
	var sum strings.Builder
	fmt.Fprintf(&sum, "**%s** — verdict **%s**", checkRunName(r), r.Verdict)
	if r.Target != "" {
		fmt.Fprintf(&sum, " for `%s`", strings.ReplaceAll(r.Target, "`", "'"))
	}
	sum.WriteString(".\n")
	if r.Verdict == Inconclusive {
		switch concl {
		case github.ConclusionFailure:
			sum.WriteString("\nThe gate could not decide and **failed closed**: it blocked the pipeline.\n")
		case github.ConclusionNeutral:
			if r.FailOpen {
				sum.WriteString("\nThe gate could not decide and **failed open** (--fail-open): the pipeline went on.\n")
			} else {
				sum.WriteString("\nVerification could not decide yet: nothing was marked failed.\n")
			}
		}
	}
	if r.Verdict == Pass && len(r.Checks) == 0 {
		sum.WriteString("\nNo check ran, so nothing was measured: reported neutral, not success.\n")
	}
	if r.Message != "" {
		fmt.Fprintf(&sum, "\n%s\n", r.Message)
	}
	var meta []string
	if r.ID > 0 {
		meta = append(meta, fmt.Sprintf("gate result %d", r.ID))
	}
	if r.ChangeID > 0 {
		meta = append(meta, fmt.Sprintf("change %d", r.ChangeID))
	}
	if r.Actor != "" {
		meta = append(meta, "run by "+r.Actor)
	}
	if r.Source != "" {
		meta = append(meta, "from "+r.Source)
	}
	if len(meta) > 0 {
		fmt.Fprintf(&sum, "\n%s.\n", strings.Join(meta, ", "))
	}
	return github.CheckRun{
		Name: checkRunName(r), HeadSHA: sha, DetailsURL: detailsURL,
		ExternalID: "tandem-gate-result-" + strconv.FormatInt(r.ID, 10),
		Status:     github.CheckCompleted, Conclusion: concl, CompletedAt: github.Timestamp(r.CreatedAt),
		Output: &github.CheckOutput{Title: title, Summary: github.Clip(sum.String(), github.MaxOutputChars),
			Text: github.Clip(ChecksMarkdown(r.Checks), github.MaxOutputChars)},
	}
}

// ChecksMarkdown renders checks as a Markdown table: check, measured value
// ("no data — why" when nothing was measured), the limit, the window and
// the verdict, then the detail.
func ChecksMarkdown(checks []Check) string {
	if len(checks) == 0 {
		return "No checks."
	}
	var b strings.Builder
	b.WriteString("| Check | Value | Limit | Window | Verdict | Detail |\n|---|---|---|---|---|---|\n")
	for _, c := range checks {
		value := c.ValueText()
		if c.Value == nil {
			value = "no data"
			if c.Detail != "" {
				value += " — " + c.Detail
			}
		}
		detail := c.Detail
		if c.Value == nil {
			detail = "" // said beside "no data"
		}
		window := c.Window
		if window == "" {
			window = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s %s | %s | %s | %s |\n", cell(c.Name), cell(value), cell(c.Op), cell(c.ThresholdText()),
			cell(window), verdictMark(c.Verdict), cell(detail))
	}
	return b.String()
}

func verdictMark(v string) string {
	switch v {
	case Pass:
		return "✅ pass"
	case Fail:
		return "❌ fail"
	}
	return "⚠️ inconclusive"
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return s
}

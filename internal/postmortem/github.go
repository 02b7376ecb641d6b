package postmortem

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/github"
)

// GitHub creates and updates postmortem issues through the GitHub REST API.
type GitHub struct {
	// BaseURL is the API root: https://api.github.com (the default) or
	// https://HOST/api/v3 for GitHub Enterprise Server.
	BaseURL string
	// Repo is "owner/name".
	Repo string
	// Token is sent as "Authorization: Bearer <token>".
	Token  string
	Labels []string
	HTTP   *http.Client
}

// Issue is the part of a GitHub issue tandem keeps.
type Issue struct {
	Number  int64  `json:"number"`
	HTMLURL string `json:"html_url"`
	Title   string `json:"title"`
	Body    string `json:"body"`
}

func (g *GitHub) client() *github.Client {
	return &github.Client{BaseURL: g.BaseURL, Token: g.Token, HTTP: g.HTTP}
}

func (g *GitHub) repoPath() (string, error) {
	p, err := github.RepoPath(g.Repo)
	if err != nil {
		return "", tandem.FieldErrorf("repository", "%v", err)
	}
	return p, nil
}

// CreateIssue creates an issue: POST /repos/{owner}/{repo}/issues with
// {"title", "body", "labels"}.
func (g *GitHub) CreateIssue(ctx context.Context, title, body string) (Issue, error) {
	p, err := g.repoPath()
	if err != nil {
		return Issue{}, err
	}
	req := map[string]any{"title": title, "body": body}
	if len(g.Labels) > 0 {
		req["labels"] = g.Labels
	}
	c := g.client()
	var is Issue
	_, err = c.Do(ctx, http.MethodPost, c.URL(p+"/issues"), req, &is)
	return is, err
}

// UpdateIssue replaces an issue's title and body:
// PATCH /repos/{owner}/{repo}/issues/{number}.
func (g *GitHub) UpdateIssue(ctx context.Context, number int64, title, body string) (Issue, error) {
	p, err := g.repoPath()
	if err != nil {
		return Issue{}, err
	}
	c := g.client()
	var is Issue
	_, err = c.Do(ctx, http.MethodPatch, c.URL(fmt.Sprintf("%s/issues/%d", p, number)), map[string]any{"title": title, "body": body}, &is)
	return is, err
}

// FindIssue looks for an issue whose body contains marker among the issues
// updated since since (GET /repos/{owner}/{repo}/issues?state=all&since=…,
// newest first, up to 5 pages). It reads the repository's issue list, not
// the search API, whose index lags behind a just-created issue.
func (g *GitHub) FindIssue(ctx context.Context, marker string, since time.Time) (Issue, bool, error) {
	p, err := g.repoPath()
	if err != nil {
		return Issue{}, false, err
	}
	c := g.client()
	q := url.Values{"state": {"all"}, "sort": {"created"}, "direction": {"desc"}, "per_page": {"100"},
		"since": {since.UTC().Format(time.RFC3339)}}
	next := c.URL(p + "/issues?" + q.Encode())
	for page := 0; next != "" && page < 5; page++ {
		var issues []Issue
		h, err := c.Do(ctx, http.MethodGet, next, nil, &issues)
		if err != nil {
			return Issue{}, false, err
		}
		for _, is := range issues {
			if strings.Contains(is.Body, marker) {
				return is, true, nil
			}
		}
		next = github.Next(h)
	}
	return Issue{}, false, nil
}

// IssueTitle is the title of a postmortem's GitHub issue.
func IssueTitle(incidentTitle string) string { return "Postmortem - " + incidentTitle }

// IssueMarker is the hidden line that identifies a postmortem's issue.
func IssueMarker(postmortemID int64) string {
	return fmt.Sprintf("<!-- tandem:postmortem:%d -->", postmortemID)
}

// IssueBody is the issue body: the Markdown, then the marker.
func IssueBody(markdown string, postmortemID int64) string {
	return strings.TrimRight(markdown, "\n") + "\n\n" + IssueMarker(postmortemID) + "\n"
}

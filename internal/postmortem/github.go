package postmortem

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
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

// GitHubError is a failed GitHub call. Retryable says whether trying again
// later may succeed (network errors, 5xx, rate limits).
type GitHubError struct {
	Status    int
	Message   string
	Retryable bool
}

func (e *GitHubError) Error() string {
	if e.Status == 0 {
		return "github: " + e.Message
	}
	return fmt.Sprintf("github: HTTP %d: %s", e.Status, e.Message)
}

func (g *GitHub) base() string {
	if g.BaseURL == "" {
		return "https://api.github.com"
	}
	return strings.TrimRight(g.BaseURL, "/")
}

func (g *GitHub) repoPath() (string, error) {
	owner, name, ok := strings.Cut(g.Repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", tandem.FieldErrorf("repository", "want owner/name, got %q", g.Repo)
	}
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
}

func (g *GitHub) do(ctx context.Context, method, u string, body any, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &GitHubError{Message: err.Error()}
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "tandem")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	hc := g.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &GitHubError{Message: unwrapURL(err).Error(), Retryable: true}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, &GitHubError{Status: resp.StatusCode, Message: "read answer: " + err.Error(), Retryable: true}
	}
	if resp.StatusCode >= 300 {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &m)
		if m.Message == "" {
			m.Message = http.StatusText(resp.StatusCode)
		}
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
			(resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0")
		return nil, &GitHubError{Status: resp.StatusCode, Message: m.Message, Retryable: retry}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, &GitHubError{Status: resp.StatusCode, Message: "unexpected answer: " + err.Error(), Retryable: true}
		}
	}
	return resp.Header, nil
}

func unwrapURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
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
	var is Issue
	_, err = g.do(ctx, http.MethodPost, g.base()+p+"/issues", req, &is)
	return is, err
}

// UpdateIssue replaces an issue's title and body:
// PATCH /repos/{owner}/{repo}/issues/{number}.
func (g *GitHub) UpdateIssue(ctx context.Context, number int64, title, body string) (Issue, error) {
	p, err := g.repoPath()
	if err != nil {
		return Issue{}, err
	}
	var is Issue
	_, err = g.do(ctx, http.MethodPatch, fmt.Sprintf("%s%s/issues/%d", g.base(), p, number), map[string]any{"title": title, "body": body}, &is)
	return is, err
}

var nextRe = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="next"`)

// FindIssue looks for an issue whose body contains marker among the issues
// updated since since (GET /repos/{owner}/{repo}/issues?state=all&since=…,
// newest first, up to 5 pages). It reads the repository's issue list, not
// the search API, whose index lags behind a just-created issue.
func (g *GitHub) FindIssue(ctx context.Context, marker string, since time.Time) (Issue, bool, error) {
	p, err := g.repoPath()
	if err != nil {
		return Issue{}, false, err
	}
	q := url.Values{"state": {"all"}, "sort": {"created"}, "direction": {"desc"}, "per_page": {"100"},
		"since": {since.UTC().Format(time.RFC3339)}}
	next := g.base() + p + "/issues?" + q.Encode()
	for page := 0; next != "" && page < 5; page++ {
		var issues []Issue
		h, err := g.do(ctx, http.MethodGet, next, nil, &issues)
		if err != nil {
			return Issue{}, false, err
		}
		for _, is := range issues {
			if strings.Contains(is.Body, marker) {
				return is, true, nil
			}
		}
		next = ""
		if m := nextRe.FindStringSubmatch(h.Get("Link")); m != nil {
			next = m[1]
		}
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

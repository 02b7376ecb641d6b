package toil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/github"
)

// GitHub reads issues labelled toil through the GitHub REST API
// (GET /repos/{owner}/{repo}/issues?labels=toil&state=all), following the
// Link header's rel="next" pages.
type GitHub struct {
	// BaseURL is the API root: https://api.github.com (the default), or
	// https://HOST/api/v3 for GitHub Enterprise Server.
	BaseURL string
	// Token authenticates as "Authorization: Bearer <token>"; empty reads
	// public repositories anonymously.
	Token string
	HTTP  *http.Client
	// MaxPages bounds the pages read (default 50, 5000 issues).
	MaxPages int
}

type ghIssue struct {
	Number    int       `json:"number"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	HTMLURL   string    `json:"html_url"`
	CreatedAt time.Time `json:"created_at"`
	ClosedAt  time.Time `json:"closed_at"`
	Labels    []struct {
		Name string `json:"name"`
	} `json:"labels"`
	Assignee *struct {
		Login string `json:"login"`
	} `json:"assignee"`
	User *struct {
		Login string `json:"login"`
	} `json:"user"`
	PullRequest json.RawMessage `json:"pull_request"`
}

// timeSpentLine finds "Time spent: 45m" in an issue body.
var timeSpentLine = regexp.MustCompile(`(?im)^\s*time\s+spent\s*:\s*([0-9][0-9a-z. ]*)\s*$`)

// FetchIssues reads every issue of repo ("owner/name") carrying the toil
// label and converts it like ParseCSV does a ticket: labels
// "<label>:<category>", "service:<name>", "time:<duration>", or a body line
// "Time spent: 45m"; the assignee (else the author) is the person; the
// close time (else the creation time) is when. Pull requests are skipped.
func (g *GitHub) FetchIssues(ctx context.Context, repo string, opts ImportOptions) (ImportResult, error) {
	p, err := github.RepoPath(repo)
	if err != nil {
		return ImportResult{}, tandem.FieldErrorf("repo", "%v", err)
	}
	c := &github.Client{BaseURL: g.BaseURL, Token: g.Token, HTTP: g.HTTP}
	maxPages := g.MaxPages
	if maxPages <= 0 {
		maxPages = 50
	}
	q := url.Values{"labels": {opts.label()}, "state": {"all"}, "per_page": {"100"}}
	next := c.URL(p + "/issues?" + q.Encode())
	res := ImportResult{Format: "github", Entries: []Entry{}, Bad: []RowError{}}
	row := 0
	for page := 0; next != "" && page < maxPages; page++ {
		var issues []ghIssue
		h, err := c.Do(ctx, http.MethodGet, next, nil, &issues)
		if err != nil {
			return ImportResult{}, apiError(err)
		}
		for _, is := range issues {
			row++
			if len(is.PullRequest) > 0 && string(is.PullRequest) != "null" {
				res.Skipped++
				continue
			}
			e, rerr := issueEntry(is, repo, opts)
			if rerr != nil {
				rerr.Row = row
				res.Bad = append(res.Bad, *rerr)
				continue
			}
			res.Entries = append(res.Entries, e)
		}
		next = github.Next(h)
	}
	return res, nil
}

// apiError turns a failed GitHub call into the error the import answers
// with: a missing repository is not_found, a refused token unauthorized,
// anything else unavailable.
func apiError(err error) error {
	var ge *github.Error
	if !errors.As(err, &ge) {
		return err
	}
	code := tandem.EUnavailable
	switch ge.Status {
	case http.StatusNotFound:
		code = tandem.ENotFound
	case http.StatusUnauthorized, http.StatusForbidden:
		if !ge.Retryable {
			code = tandem.EUnauthorized
		}
	}
	return tandem.Errorf(code, "GitHub: %s", strings.TrimPrefix(ge.Error(), "github: "))
}

func issueEntry(is ghIssue, repo string, opts ImportOptions) (Entry, *RowError) {
	ref := fmt.Sprintf("%s#%d", repo, is.Number)
	bad := func(field, format string, args ...any) (Entry, *RowError) {
		return Entry{}, &RowError{Ref: ref, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	var labels []string
	for _, l := range is.Labels {
		labels = append(labels, l.Name)
	}
	lab, err := readLabels(labels, opts.label())
	if err != nil {
		return bad("labels", "%v", err)
	}
	e := Entry{Source: "github", ExternalID: ref, Note: is.Title, Category: lab.category, Service: lab.service, Minutes: lab.minutes}
	if e.Category == "" {
		e.Category = "other"
	}
	if e.Minutes == 0 {
		if m := timeSpentLine.FindStringSubmatch(is.Body); m != nil {
			d, err := tandem.ParseDuration(strings.ReplaceAll(m[1], " ", ""))
			if err != nil || d < time.Minute {
				return bad("body", "unreadable \"Time spent: %s\": want a duration such as 45m or 1h30m", m[1])
			}
			e.Minutes = int(d / time.Minute)
		}
	}
	if e.Minutes == 0 {
		return bad("time", "no time spent: add a label time:<duration> (time:30m) or a body line \"Time spent: 30m\"")
	}
	e.At = is.ClosedAt
	if e.At.IsZero() {
		e.At = is.CreatedAt
	}
	if e.At.IsZero() {
		return bad("created_at", "missing")
	}
	e.At = e.At.UTC()
	if is.Assignee != nil {
		e.Person = is.Assignee.Login
	} else if is.User != nil {
		e.Person = is.User.Login
	}
	if opts.Catalog != nil {
		if e.Service != "" {
			if _, ok := opts.Catalog.Service(e.Service); !ok {
				msg := fmt.Sprintf("unknown service %q", e.Service)
				if cl := catalog.Closest(e.Service, opts.Catalog.ServiceNames(), 3); len(cl) > 0 {
					msg += "; close names: " + strings.Join(cl, ", ")
				}
				return bad("service", "%s", msg)
			}
		}
		e.Person = ResolvePerson(opts.Catalog, e.Person)
		FillTeam(opts.Catalog, &e)
	}
	if err := e.Validate(); err != nil {
		return bad("", "%v", tandem.ErrorMessage(err))
	}
	return e, nil
}

package toil

import (
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
	"github.com/tandemhq/tandem/internal/catalog"
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

var nextLink = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="next"`)

// timeSpentLine finds "Time spent: 45m" in an issue body.
var timeSpentLine = regexp.MustCompile(`(?im)^\s*time\s+spent\s*:\s*([0-9][0-9a-z. ]*)\s*$`)

// FetchIssues reads every issue of repo ("owner/name") carrying the toil
// label and converts it like ParseCSV does a ticket: labels
// "<label>:<category>", "service:<name>", "time:<duration>", or a body line
// "Time spent: 45m"; the assignee (else the author) is the person; the
// close time (else the creation time) is when. Pull requests are skipped.
func (g *GitHub) FetchIssues(ctx context.Context, repo string, opts ImportOptions) (ImportResult, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return ImportResult{}, tandem.FieldErrorf("repo", "want owner/name, got %q", repo)
	}
	base := strings.TrimRight(g.BaseURL, "/")
	if base == "" {
		base = "https://api.github.com"
	}
	hc := g.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	maxPages := g.MaxPages
	if maxPages <= 0 {
		maxPages = 50
	}
	q := url.Values{"labels": {opts.label()}, "state": {"all"}, "per_page": {"100"}}
	next := base + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + "/issues?" + q.Encode()
	res := ImportResult{Format: "github", Entries: []Entry{}, Bad: []RowError{}}
	row := 0
	for page := 0; next != "" && page < maxPages; page++ {
		issues, link, err := g.page(ctx, hc, next)
		if err != nil {
			return ImportResult{}, err
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
		next = ""
		if m := nextLink.FindStringSubmatch(link); m != nil {
			next = m[1]
		}
	}
	return res, nil
}

func (g *GitHub) page(ctx context.Context, hc *http.Client, u string) ([]ghIssue, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", tandem.Errorf(tandem.EInvalid, "GitHub URL: %v", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "tandem")
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", tandem.Errorf(tandem.EUnavailable, "GitHub: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, "", tandem.Errorf(tandem.EUnavailable, "GitHub: read answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		var msg struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &msg)
		code := tandem.EUnavailable
		if resp.StatusCode == http.StatusNotFound {
			code = tandem.ENotFound
		} else if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			code = tandem.EUnauthorized
		}
		return nil, "", tandem.Errorf(code, "GitHub GET %s: HTTP %d %s", req.URL.Path, resp.StatusCode, msg.Message)
	}
	var issues []ghIssue
	if err := json.Unmarshal(body, &issues); err != nil {
		return nil, "", tandem.Errorf(tandem.EUnavailable, "GitHub: unexpected answer: %v", err)
	}
	return issues, resp.Header.Get("Link"), nil
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

package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// Postmortems lists postmortems, newest first (status and team may be
// empty).
func (c *Client) Postmortems(ctx context.Context, status, team string) ([]Postmortem, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if team != "" {
		q.Set("team", team)
	}
	var out List[Postmortem]
	err := c.Do(ctx, http.MethodGet, "/api/v1/postmortems", q, nil, &out)
	return out.Items, err
}

// Postmortem returns one postmortem with its action items.
func (c *Client) Postmortem(ctx context.Context, id int64) (Postmortem, error) {
	var out Postmortem
	err := c.Do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/postmortems/%d", id), nil, nil, &out)
	return out, err
}

// PostmortemMarkdown returns a postmortem's Markdown.
func (c *Client) PostmortemMarkdown(ctx context.Context, id int64) (string, error) {
	var b strings.Builder
	err := c.Do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/postmortems/%d", id), url.Values{"format": {"markdown"}}, nil, &b)
	return b.String(), err
}

// GeneratePostmortem writes the incident's postmortem now (or returns the
// one it has).
func (c *Client) GeneratePostmortem(ctx context.Context, incidentID int64) (Postmortem, error) {
	var out Postmortem
	err := c.Do(ctx, http.MethodPost, "/api/v1/postmortems", nil, map[string]int64{"incident_id": incidentID}, &out)
	return out, err
}

// UpdatePostmortem changes a postmortem's Markdown and/or status.
func (c *Client) UpdatePostmortem(ctx context.Context, id int64, u PostmortemUpdate) (Postmortem, error) {
	var out Postmortem
	err := c.Do(ctx, http.MethodPut, fmt.Sprintf("/api/v1/postmortems/%d", id), nil, u, &out)
	return out, err
}

// ActionFilter selects action items.
type ActionFilter struct {
	Owner   string
	Status  string
	Overdue bool
}

// ActionItems lists action items.
func (c *Client) ActionItems(ctx context.Context, f ActionFilter) ([]ActionItem, error) {
	q := url.Values{}
	if f.Owner != "" {
		q.Set("owner", f.Owner)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Overdue {
		q.Set("overdue", "true")
	}
	var out List[ActionItem]
	err := c.Do(ctx, http.MethodGet, "/api/v1/actions", q, nil, &out)
	return out.Items, err
}

// AddActionItem adds an action item by hand.
func (c *Client) AddActionItem(ctx context.Context, n NewActionItem) (ActionItem, error) {
	var out ActionItem
	err := c.Do(ctx, http.MethodPost, "/api/v1/actions", nil, n, &out)
	return out, err
}

// UpdateActionItem changes an action item.
func (c *Client) UpdateActionItem(ctx context.Context, id int64, u ActionItemUpdate) (ActionItem, error) {
	var out ActionItem
	err := c.Do(ctx, http.MethodPatch, fmt.Sprintf("/api/v1/actions/%d", id), nil, u, &out)
	return out, err
}

// ToilInput is one toil entry to log.
type ToilInput struct {
	At         *time.Time `json:"at,omitempty"`
	Minutes    int        `json:"minutes"`
	Category   string     `json:"category"`
	Service    string     `json:"service,omitempty"`
	Team       string     `json:"team,omitempty"`
	Person     string     `json:"person,omitempty"`
	Note       string     `json:"note,omitempty"`
	Source     string     `json:"source,omitempty"`
	ExternalID string     `json:"external_id,omitempty"`
}

// LogToil records one toil entry.
func (c *Client) LogToil(ctx context.Context, in ToilInput) (ToilEntry, error) {
	var out ToilEntry
	err := c.Do(ctx, http.MethodPost, "/api/v1/toil", nil, in, &out)
	return out, err
}

// ToilEntries lists toil entries, newest first; q takes since, until,
// category, service, team, person, limit.
func (c *Client) ToilEntries(ctx context.Context, q url.Values) ([]ToilEntry, error) {
	var out List[ToilEntry]
	err := c.Do(ctx, http.MethodGet, "/api/v1/toil", q, nil, &out)
	return out.Items, err
}

// CSVImportOptions tunes a CSV import.
type CSVImportOptions struct {
	Format          string // jira, linear, tandem; empty detects it
	Label           string
	MinutesPerPoint int
	SkipBad         bool
}

// ImportToilCSV sends a CSV export to the server. With bad rows and no
// SkipBad nothing is imported and the report (Imported false) lists them
// all, with a nil error.
func (c *Client) ImportToilCSV(ctx context.Context, r io.Reader, o CSVImportOptions) (ToilImportReport, error) {
	q := url.Values{}
	if o.Format != "" {
		q.Set("format", o.Format)
	}
	if o.Label != "" {
		q.Set("label", o.Label)
	}
	if o.MinutesPerPoint > 0 {
		q.Set("minutes_per_point", strconv.Itoa(o.MinutesPerPoint))
	}
	if o.SkipBad {
		q.Set("skip_bad", "true")
	}
	return c.importToil(ctx, q, "text/csv", r)
}

// ImportToilEntries sends entries read elsewhere (GitHub issues), with the
// rows that could not be read, so the server applies the same rule: bad
// rows import nothing unless skipBad.
func (c *Client) ImportToilEntries(ctx context.Context, res ToilImportResult, skipBad bool) (ToilImportReport, error) {
	in := struct {
		Entries []ToilInput    `json:"entries"`
		SkipBad bool           `json:"skip_bad"`
		Bad     []ToilRowError `json:"bad,omitempty"`
		Skipped int            `json:"skipped,omitempty"`
		Format  string         `json:"format,omitempty"`
	}{Entries: []ToilInput{}, SkipBad: skipBad, Bad: res.Bad, Skipped: res.Skipped, Format: res.Format}
	for _, e := range res.Entries {
		at := e.At
		in.Entries = append(in.Entries, ToilInput{At: &at, Minutes: e.Minutes, Category: e.Category, Service: e.Service, Team: e.Team,
			Person: e.Person, Note: e.Note, Source: e.Source, ExternalID: e.ExternalID})
	}
	b, err := json.Marshal(in)
	if err != nil {
		return ToilImportReport{}, err
	}
	return c.importToil(ctx, nil, "application/json", strings.NewReader(string(b)))
}

func (c *Client) importToil(ctx context.Context, q url.Values, contentType string, body io.Reader) (ToilImportReport, error) {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + "/api/v1/toil/import"
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		return ToilImportReport{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ToilImportReport{}, ctx.Err()
		}
		return ToilImportReport{}, &tandem.Error{Code: tandem.EUnavailable, Message: fmt.Sprintf("cannot reach tandem at %s: %v", c.base, unwrapURLError(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return ToilImportReport{}, &tandem.Error{Code: tandem.EUnavailable, Message: fmt.Sprintf("read answer: %v", err)}
	}
	var rep ToilImportReport
	jerr := json.Unmarshal(data, &rep)
	switch {
	case resp.StatusCode == http.StatusOK && jerr == nil:
		return rep, nil
	case resp.StatusCode == http.StatusUnprocessableEntity && jerr == nil && rep.Bad != nil:
		return rep, nil
	case jerr == nil && rep.Error != nil:
		return ToilImportReport{}, rep.Error
	}
	code := tandem.EInternal
	if resp.StatusCode >= 502 && resp.StatusCode <= 504 {
		code = tandem.EUnavailable
	}
	return ToilImportReport{}, &tandem.Error{Code: code, Message: fmt.Sprintf("POST /api/v1/toil/import: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(data[:min(len(data), 200)])))}
}

// ToilReport asks for a toil report: month ("2026-11") or since ("90d"),
// by category, team, service or person (empty: one total row).
func (c *Client) ToilReport(ctx context.Context, month, since, by, team string) (ToilReport, error) {
	q := url.Values{}
	for k, v := range map[string]string{"month": month, "since": since, "by": by, "team": team} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out ToilReport
	err := c.Do(ctx, http.MethodGet, "/api/v1/toil/report", q, nil, &out)
	return out, err
}

// ToilGoals returns the progress of the configured toil goals.
func (c *Client) ToilGoals(ctx context.Context) ([]ToilGoalStatus, error) {
	var out List[ToilGoalStatus]
	err := c.Do(ctx, http.MethodGet, "/api/v1/toil/goals", nil, nil, &out)
	return out.Items, err
}

// OKRStatus evaluates the objectives of a quarter ("2026Q4"; empty: the
// current one), for a team (empty: all).
func (c *Client) OKRStatus(ctx context.Context, quarter, team string) ([]ObjectiveStatus, error) {
	q := url.Values{}
	if quarter != "" {
		q.Set("quarter", quarter)
	}
	if team != "" {
		q.Set("team", team)
	}
	var out List[ObjectiveStatus]
	err := c.Do(ctx, http.MethodGet, "/api/v1/okrs", q, nil, &out)
	return out.Items, err
}

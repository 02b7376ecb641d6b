package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ChangeBatch is the answer to a batch of change events: the records in the
// order sent, and how many were new (the rest were stored before under the
// same source and external id).
type ChangeBatch struct {
	Items   []ChangeEvent `json:"items"`
	Count   int           `json:"count"`
	Created int           `json:"created"`
}

// RecordChange records one change event (POST /api/v1/changes). When the
// event's source and external id were recorded before, the answer is the
// first record with Existing set; an in-progress record is moved to the
// event's final status.
func (c *Client) RecordChange(ctx context.Context, e ChangeEvent) (ChangeEvent, error) {
	var out ChangeEvent
	err := c.Do(ctx, http.MethodPost, "/api/v1/changes", nil, e, &out)
	return out, err
}

// RecordChanges records a batch, all or nothing.
func (c *Client) RecordChanges(ctx context.Context, events []ChangeEvent) (ChangeBatch, error) {
	var out ChangeBatch
	err := c.Do(ctx, http.MethodPost, "/api/v1/changes", nil, map[string]any{"events": events}, &out)
	return out, err
}

// ChangeQuery selects change events. Around, when set, lists the changes
// within Window (default 2h) either side of it, nearest first.
type ChangeQuery struct {
	Services    []string
	Kinds       []string
	Statuses    []string
	Environment string
	Since       time.Time
	Until       time.Time
	Around      time.Time
	Window      time.Duration
	Limit       int
}

// Changes lists change events (GET /api/v1/changes).
func (c *Client) Changes(ctx context.Context, q ChangeQuery) ([]ChangeEvent, error) {
	v := url.Values{}
	if len(q.Services) > 0 {
		v.Set("service", strings.Join(q.Services, ","))
	}
	if len(q.Kinds) > 0 {
		v.Set("kind", strings.Join(q.Kinds, ","))
	}
	if len(q.Statuses) > 0 {
		v.Set("status", strings.Join(q.Statuses, ","))
	}
	if q.Environment != "" {
		v.Set("environment", q.Environment)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if !q.Around.IsZero() {
		v.Set("around", q.Around.UTC().Format(time.RFC3339Nano))
		if q.Window > 0 {
			v.Set("window", q.Window.String())
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out List[ChangeEvent]
	err := c.Do(ctx, http.MethodGet, "/api/v1/changes", v, nil, &out)
	return out.Items, err
}

// Change returns one change event by id.
func (c *Client) Change(ctx context.Context, id int64) (ChangeEvent, error) {
	var out ChangeEvent
	err := c.Do(ctx, http.MethodGet, "/api/v1/changes/"+strconv.FormatInt(id, 10), nil, nil, &out)
	return out, err
}

// SetChangeStatus sets a change event's status (PATCH /api/v1/changes/{id});
// finished, when not zero, is its finish time if it has none yet.
func (c *Client) SetChangeStatus(ctx context.Context, id int64, status, reason string, finished time.Time) (ChangeEvent, error) {
	body := map[string]any{"status": status}
	if reason != "" {
		body["failure_reason"] = reason
	}
	if !finished.IsZero() {
		body["finished_at"] = finished.UTC()
	}
	var out ChangeEvent
	err := c.Do(ctx, http.MethodPatch, "/api/v1/changes/"+strconv.FormatInt(id, 10), nil, body, &out)
	return out, err
}

// RecordCommits records commits with their times (POST /api/v1/commits) and
// returns how many were new.
func (c *Client) RecordCommits(ctx context.Context, commits []Commit) (int, error) {
	var out struct {
		Created int `json:"created"`
	}
	err := c.Do(ctx, http.MethodPost, "/api/v1/commits", nil, map[string]any{"commits": commits}, &out)
	return out.Created, err
}

// DORAQuery selects a DORA report. Times are as the server reads them:
// RFC 3339, a date, or a duration ago ("90d"). Empty fields take the
// server's defaults (all services, production, the last 90 days).
type DORAQuery struct {
	Services    []string
	Team        string
	Environment string
	Since       string
	From, To    string
	By          string // "", day, week or month
}

func (q DORAQuery) values() url.Values {
	v := url.Values{}
	if len(q.Services) > 0 {
		v.Set("service", strings.Join(q.Services, ","))
	}
	for k, s := range map[string]string{"team": q.Team, "environment": q.Environment, "since": q.Since, "from": q.From, "to": q.To, "by": q.By} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// DORA returns the DORA report (GET /api/v1/dora).
func (c *Client) DORA(ctx context.Context, q DORAQuery) (DORAReport, error) {
	var out DORAReport
	err := c.Do(ctx, http.MethodGet, "/api/v1/dora", q.values(), nil, &out)
	return out, err
}

// DORAByService returns one report per service (GET /api/v1/dora/services).
func (c *Client) DORAByService(ctx context.Context, q DORAQuery) ([]DORAReport, error) {
	var out List[DORAReport]
	err := c.Do(ctx, http.MethodGet, "/api/v1/dora/services", q.values(), nil, &out)
	return out.Items, err
}

// At is the change's moment: its finish, else its start, else when it was
// recorded.
func (e ChangeEvent) At() time.Time {
	switch {
	case !e.FinishedAt.IsZero():
		return e.FinishedAt
	case !e.StartedAt.IsZero():
		return e.StartedAt
	}
	return e.CreatedAt
}

// HasLabel reports whether the event carries the label (case-insensitive).
func (e ChangeEvent) HasLabel(label string) bool {
	for _, l := range e.Labels {
		if strings.EqualFold(l, label) {
			return true
		}
	}
	return false
}

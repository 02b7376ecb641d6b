package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// OncallSummary is the answer of GET /api/v1/oncall: who is on call in
// every schedule, and whom each escalation policy's rules page, at At.
type OncallSummary struct {
	At        time.Time `json:"at"`
	Schedules []struct {
		CurrentOnCall
		Layers []LayerOnCall `json:"layers"`
	} `json:"schedules"`
	Policies []struct {
		Name     string       `json:"name"`
		Services []string     `json:"services"`
		NumLoops int          `json:"num_loops"`
		Rules    []RuleOnCall `json:"rules"`
	} `json:"policies"`
}

// NewOverride is the body that adds a run-time override. Start and End are
// RFC 3339 (or anything tandem.ParseTime reads); Author, when empty, is the
// token's name.
type NewOverride struct {
	Person string `json:"person"`
	Start  string `json:"start"`
	End    string `json:"end"`
	Reason string `json:"reason,omitempty"`
	Author string `json:"author,omitempty"`
}

func timeQuery(q url.Values, name string, t time.Time) {
	if !t.IsZero() {
		q.Set(name, t.UTC().Format(time.RFC3339))
	}
}

// Schedules lists the schedules with who is on call now and next.
func (c *Client) Schedules(ctx context.Context) ([]Schedule, error) {
	var out List[Schedule]
	err := c.Do(ctx, http.MethodGet, "/api/v1/schedules", nil, nil, &out)
	return out.Items, err
}

// OnCall returns who is on call in schedule at at (zero: now), with each
// layer's detail.
func (c *Client) OnCall(ctx context.Context, schedule string, at time.Time) (OnCallResolution, error) {
	q := url.Values{}
	timeQuery(q, "at", at)
	var out OnCallResolution
	err := c.Do(ctx, http.MethodGet, "/api/v1/schedules/"+url.PathEscape(schedule)+"/oncall", q, nil, &out)
	return out, err
}

// OncallSummary returns who is on call in every schedule and policy at at
// (zero: now).
func (c *Client) OncallSummary(ctx context.Context, at time.Time) (OncallSummary, error) {
	q := url.Values{}
	timeQuery(q, "at", at)
	var out OncallSummary
	err := c.Do(ctx, http.MethodGet, "/api/v1/oncall", q, nil, &out)
	return out, err
}

// Shifts returns the final shifts of schedule over [from, to) (zero from:
// now; zero to: a week after from).
func (c *Client) Shifts(ctx context.Context, schedule string, from, to time.Time) ([]Shift, error) {
	q := url.Values{}
	timeQuery(q, "from", from)
	timeQuery(q, "to", to)
	var out List[Shift]
	err := c.Do(ctx, http.MethodGet, "/api/v1/schedules/"+url.PathEscape(schedule)+"/shifts", q, nil, &out)
	return out.Items, err
}

// Overrides lists the schedule's overrides, config and run-time, that end
// after from (zero: all).
func (c *Client) Overrides(ctx context.Context, schedule string, from time.Time) ([]Override, error) {
	q := url.Values{}
	timeQuery(q, "from", from)
	var out List[Override]
	err := c.Do(ctx, http.MethodGet, "/api/v1/schedules/"+url.PathEscape(schedule)+"/overrides", q, nil, &out)
	return out.Items, err
}

// AddOverride stores a run-time override (write scope).
func (c *Client) AddOverride(ctx context.Context, schedule string, o NewOverride) (Override, error) {
	var out Override
	err := c.Do(ctx, http.MethodPost, "/api/v1/schedules/"+url.PathEscape(schedule)+"/overrides", nil, o, &out)
	return out, err
}

// RemoveOverride deletes run-time override id of schedule (write scope) and
// returns it.
func (c *Client) RemoveOverride(ctx context.Context, schedule string, id int64) (Override, error) {
	var out Override
	err := c.Do(ctx, http.MethodDelete, "/api/v1/schedules/"+url.PathEscape(schedule)+"/overrides/"+strconv.FormatInt(id, 10), nil, nil, &out)
	return out, err
}

// ScheduleCalendar writes the schedule's iCalendar feed to w.
func (c *Client) ScheduleCalendar(ctx context.Context, schedule string, w io.Writer) error {
	return c.Do(ctx, http.MethodGet, "/api/v1/schedules/"+url.PathEscape(schedule)+".ics", nil, nil, w)
}

// EscalationPolicies lists the escalation policies.
func (c *Client) EscalationPolicies(ctx context.Context) ([]EscalationPolicy, error) {
	var out List[EscalationPolicy]
	err := c.Do(ctx, http.MethodGet, "/api/v1/escalation_policies", nil, nil, &out)
	return out.Items, err
}

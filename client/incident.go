package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// IncidentQuery filters Incidents. Zero fields are left out.
type IncidentQuery struct {
	Status   string // triggered, acknowledged, resolved, closed, open (triggered or acknowledged); comma-separated
	Service  string
	Severity string
	Since    time.Time
	Until    time.Time
	Limit    int
}

// Incidents lists incidents, most recently started first.
func (c *Client) Incidents(ctx context.Context, q IncidentQuery) ([]Incident, error) {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Service != "" {
		v.Set("service", q.Service)
	}
	if q.Severity != "" {
		v.Set("severity", q.Severity)
	}
	timeQuery(v, "since", q.Since)
	timeQuery(v, "until", q.Until)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out struct {
		Items []Incident `json:"items"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/incidents", v, nil, &out)
	return out.Items, err
}

// Incident returns one incident with its suspects.
func (c *Client) Incident(ctx context.Context, id int64) (Incident, error) {
	var out Incident
	err := c.Do(ctx, http.MethodGet, "/api/v1/incidents/"+strconv.FormatInt(id, 10), nil, nil, &out)
	return out, err
}

// OpenIncident opens an incident and starts its escalation.
func (c *Client) OpenIncident(ctx context.Context, in NewIncident) (Incident, error) {
	var out Incident
	err := c.Do(ctx, http.MethodPost, "/api/v1/incidents", nil, in, &out)
	return out, err
}

// UpdateIncident changes an incident's descriptive fields.
func (c *Client) UpdateIncident(ctx context.Context, id int64, u IncidentUpdate) (Incident, error) {
	var out Incident
	err := c.Do(ctx, http.MethodPatch, "/api/v1/incidents/"+strconv.FormatInt(id, 10), nil, u, &out)
	return out, err
}

// IncidentAction acknowledges ("ack"), resolves ("resolve") or closes
// ("close") an incident; note is recorded with a resolve.
func (c *Client) IncidentAction(ctx context.Context, id int64, action, note string) (Incident, error) {
	var out Incident
	var body any
	if note != "" {
		body = map[string]string{"note": note}
	}
	err := c.Do(ctx, http.MethodPost, "/api/v1/incidents/"+strconv.FormatInt(id, 10)+"/"+url.PathEscape(action), nil, body, &out)
	return out, err
}

// PostIncidentUpdate posts a status update (investigating, identified,
// monitoring or resolved) with a message: it goes on the timeline, to the
// incident channel and to the configured status page.
func (c *Client) PostIncidentUpdate(ctx context.Context, id int64, status, message string) (IncidentEvent, error) {
	var out IncidentEvent
	err := c.Do(ctx, http.MethodPost, "/api/v1/incidents/"+strconv.FormatInt(id, 10)+"/updates", nil,
		map[string]string{"status": status, "message": message}, &out)
	return out, err
}

// AddIncidentNote adds a note to an incident's timeline.
func (c *Client) AddIncidentNote(ctx context.Context, id int64, text string) (IncidentEvent, error) {
	var out IncidentEvent
	err := c.Do(ctx, http.MethodPost, "/api/v1/incidents/"+strconv.FormatInt(id, 10)+"/notes", nil, map[string]string{"text": text}, &out)
	return out, err
}

// IncidentTimeline returns an incident's timeline, oldest first.
func (c *Client) IncidentTimeline(ctx context.Context, id int64) ([]IncidentEvent, error) {
	var out struct {
		Items []IncidentEvent `json:"items"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/incidents/"+strconv.FormatInt(id, 10)+"/timeline", nil, nil, &out)
	return out.Items, err
}

// AddMaintenanceWindow records a maintenance window.
func (c *Client) AddMaintenanceWindow(ctx context.Context, w MaintenanceWindow) (MaintenanceWindow, error) {
	var out MaintenanceWindow
	err := c.Do(ctx, http.MethodPost, "/api/v1/maintenance-windows", nil, w, &out)
	return out, err
}

// EndMaintenanceWindow ends window id now, or cancels it if it has not
// started.
func (c *Client) EndMaintenanceWindow(ctx context.Context, id int64) (MaintenanceWindow, error) {
	var out MaintenanceWindow
	err := c.Do(ctx, http.MethodPost, "/api/v1/maintenance-windows/"+strconv.FormatInt(id, 10)+"/end", nil, nil, &out)
	return out, err
}

// MaintenanceWindows lists the windows that have not ended.
func (c *Client) MaintenanceWindows(ctx context.Context) ([]MaintenanceWindow, error) {
	var out struct {
		Items []MaintenanceWindow `json:"items"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/maintenance-windows", nil, nil, &out)
	return out.Items, err
}

// Heartbeat records a call of the named heartbeat monitor.
func (c *Client) Heartbeat(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodPost, "/api/v1/heartbeats/"+url.PathEscape(name), nil, nil, nil)
}

// Jobs lists durable jobs; state is queued, running, done, failed or "".
func (c *Client) Jobs(ctx context.Context, state, kind string, limit int) ([]Job, error) {
	v := url.Values{}
	if state != "" {
		v.Set("state", state)
	}
	if kind != "" {
		v.Set("kind", kind)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Items []Job `json:"items"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/jobs", v, nil, &out)
	return out.Items, err
}

// ReassignIncident assigns an incident to a person or an escalation policy
// (set exactly one): the old assignment's pending pages stop and the new
// assignee is paged now.
func (c *Client) ReassignIncident(ctx context.Context, id int64, to IncidentAssignment) (Incident, error) {
	var out Incident
	err := c.Do(ctx, http.MethodPost, "/api/v1/incidents/"+strconv.FormatInt(id, 10)+"/reassign", nil, to, &out)
	return out, err
}

// AddIncidentResponders pages people to join an incident without changing
// its assignment; a person already asked is not paged again.
func (c *Client) AddIncidentResponders(ctx context.Context, id int64, people []string) (Incident, error) {
	var out Incident
	err := c.Do(ctx, http.MethodPost, "/api/v1/incidents/"+strconv.FormatInt(id, 10)+"/responders", nil,
		map[string][]string{"people": people}, &out)
	return out, err
}

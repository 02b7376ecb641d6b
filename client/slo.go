package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// SLOIngestResult is the answer to PostSLOEvents.
type SLOIngestResult struct {
	// Status is "accepted", or "duplicate" when the batch was applied before.
	Status  string `json:"status"`
	SLO     string `json:"slo"`
	Events  int    `json:"events,omitempty"`
	Minutes int    `json:"minutes,omitempty"`
}

// SLOs returns every SLO's status, evaluated now (service "" for all).
func (c *Client) SLOs(ctx context.Context, service string) ([]SLOStatus, error) {
	return c.SLOsIn(ctx, service, "")
}

// SLOsIn returns the status of the SLOs of service ("" for all) in
// environment ("" for every one), evaluated now.
func (c *Client) SLOsIn(ctx context.Context, service, environment string) ([]SLOStatus, error) {
	q := url.Values{}
	if service != "" {
		q.Set("service", service)
	}
	if environment != "" {
		q.Set("environment", environment)
	}
	var out List[SLOStatus]
	err := c.Do(ctx, http.MethodGet, "/api/v1/slos", q, nil, &out)
	return out.Items, err
}

// SLO returns one SLO's status; an unknown name is a not_found error.
func (c *Client) SLO(ctx context.Context, name string) (SLOStatus, error) {
	var out SLOStatus
	err := c.Do(ctx, http.MethodGet, "/api/v1/slos/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// SLOHistory returns hourly budget points in (from, to]; zero times take
// the server's defaults (the last 7 days).
func (c *Client) SLOHistory(ctx context.Context, name string, from, to time.Time) ([]SLOHistoryPoint, error) {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339))
	}
	var out List[SLOHistoryPoint]
	err := c.Do(ctx, http.MethodGet, "/api/v1/slos/"+url.PathEscape(name)+"/history", q, nil, &out)
	return out.Items, err
}

// PostSLOEvents sends a batch of native SLI events to an SLO.
func (c *Client) PostSLOEvents(ctx context.Context, name string, b SLOBatch) (SLOIngestResult, error) {
	var out SLOIngestResult
	err := c.Do(ctx, http.MethodPost, "/api/v1/slos/"+url.PathEscape(name)+"/events", nil, b, &out)
	return out, err
}

// Freeze reports whether a service is in release freeze.
func (c *Client) Freeze(ctx context.Context, service string) (Freeze, error) {
	var out struct {
		Freeze Freeze `json:"freeze"`
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/services/"+url.PathEscape(service)+"/freeze", nil, nil, &out)
	return out.Freeze, err
}

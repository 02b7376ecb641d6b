package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// ChaosStart is the answer to starting a chaos run: the run and the
// steady state of each SLO that judges it.
type ChaosStart struct {
	Run         ChaosRun           `json:"run"`
	SteadyState []ChaosSteadyState `json:"steady_state"`
}

// StartChaosRun checks the steady state and records a chaos run; a steady
// state not met is an unprocessable error listing each SLO.
func (c *Client) StartChaosRun(ctx context.Context, in ChaosStartInput) (ChaosStart, error) {
	var out ChaosStart
	err := c.Do(ctx, http.MethodPost, "/api/v1/chaos/runs", nil, in, &out)
	return out, err
}

// ObserveChaosRun reads a run's SLIs since it started.
func (c *Client) ObserveChaosRun(ctx context.Context, id int64) (ChaosObservation, error) {
	var out ChaosObservation
	err := c.Do(ctx, http.MethodGet, "/api/v1/chaos/runs/"+strconv.FormatInt(id, 10)+"/observe", nil, nil, &out)
	return out, err
}

// FinishChaosRun ends a run; the answer carries its verdict.
func (c *Client) FinishChaosRun(ctx context.Context, id int64, in ChaosFinishInput) (ChaosRun, error) {
	var out ChaosRun
	err := c.Do(ctx, http.MethodPost, "/api/v1/chaos/runs/"+strconv.FormatInt(id, 10)+"/finish", nil, in, &out)
	return out, err
}

// ChaosRuns lists chaos runs, newest first (service and environment ""
// for all).
func (c *Client) ChaosRuns(ctx context.Context, service, environment string, limit int) ([]ChaosRun, error) {
	q := url.Values{}
	if service != "" {
		q.Set("service", service)
	}
	if environment != "" {
		q.Set("environment", environment)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out List[ChaosRun]
	err := c.Do(ctx, http.MethodGet, "/api/v1/chaos", q, nil, &out)
	return out.Items, err
}

// ImportChaos sends a chaos tool's report (format litmus, chaos-mesh or
// gremlin; "" detects it) for service in environment ("" to take them
// from the report's annotations).
func (c *Client) ImportChaos(ctx context.Context, format, service, environment string, report []byte) ([]ChaosRun, error) {
	q := url.Values{}
	for k, v := range map[string]string{"format": format, "service": service, "environment": environment} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out List[ChaosRun]
	err := c.Do(ctx, http.MethodPost, "/api/v1/chaos/import", q, json.RawMessage(report), &out)
	return out.Items, err
}

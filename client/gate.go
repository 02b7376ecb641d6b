package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// RecordGate records a gate result in the audit log (write scope) and
// returns it with its id.
func (c *Client) RecordGate(ctx context.Context, r GateResult) (GateResult, error) {
	var out GateResult
	err := c.Do(ctx, http.MethodPost, "/api/v1/gates", nil, r, &out)
	return out, err
}

// GateQuery selects gate results; zero fields select everything.
type GateQuery struct {
	Service, Kind, Verdict string
	Since, Until           time.Time
	Limit                  int
}

// Gates lists gate results, newest first.
func (c *Client) Gates(ctx context.Context, q GateQuery) ([]GateResult, error) {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("service", q.Service)
	set("kind", q.Kind)
	set("verdict", q.Verdict)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out List[GateResult]
	err := c.Do(ctx, http.MethodGet, "/api/v1/gates", v, nil, &out)
	return out.Items, err
}

// Gate returns one gate result.
func (c *Client) Gate(ctx context.Context, id int64) (GateResult, error) {
	var out GateResult
	err := c.Do(ctx, http.MethodGet, "/api/v1/gates/"+strconv.FormatInt(id, 10), nil, nil, &out)
	return out, err
}

// VerifyRequest asks the server to verify a deploy: the service's latest
// deploy, or DeployID. Window and Baseline are durations ("15m", "1h");
// empty uses the server's defaults.
type VerifyRequest struct {
	Service  string `json:"service,omitempty"`
	DeployID int64  `json:"deploy_id,omitempty"`
	Window   string `json:"window,omitempty"`
	Baseline string `json:"baseline,omitempty"`
}

// VerifyDeploy runs post-deploy verification on the server (write scope).
// A failing verdict has already marked the deploy failed when it returns.
func (c *Client) VerifyDeploy(ctx context.Context, r VerifyRequest) (Verification, error) {
	var out Verification
	err := c.Do(ctx, http.MethodPost, "/api/v1/verifications", nil, r, &out)
	return out, err
}

// EvaluateSLOGate asks the server for the SLO gate's checks (read scope);
// nothing is recorded. Names that do not resolve come back as an
// unprocessable *tandem.Error naming each, with close names.
func (c *Client) EvaluateSLOGate(ctx context.Context, r SLOGateRequest) (SLOGateEvaluation, error) {
	var out SLOGateEvaluation
	err := c.Do(ctx, http.MethodPost, "/api/v1/gates/slo/evaluate", nil, r, &out)
	return out, err
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/clock"
)

// TestOneIncidentPerBurn: when the rules of `tandem slo rules` are routed
// through Alertmanager back to tandem (as docs/slo.md describes), a burn
// that tandem's evaluator pages for and Alertmanager reports too is one
// incident, and the ticket of either path opens none. The Alertmanager
// payloads are the ones a real Alertmanager sent for the generated alerts
// of this SLO (internal/incident/testdata/alertmanager/slo-*.json).
func TestOneIncidentPerBurn(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)
	clk := clock.NewFake(now)
	srv := apptest.Start(t, apptest.Options{Clock: clk, Manual: true})
	ctx := context.Background()
	c := srv.Client
	const name = "checkout-api-availability"

	// Two hours of 10 % errors: page and ticket both fire in tandem.
	var bad []client.SLOEvent
	for m := now.Truncate(time.Minute).Add(-2 * time.Hour); m.Before(now.Truncate(time.Minute)); m = m.Add(time.Minute) {
		bad = append(bad, client.SLOEvent{Time: m, Good: ptr[int64](900), Total: ptr[int64](1000)})
	}
	if _, err := c.PostSLOEvents(ctx, name, client.SLOBatch{Events: bad}); err != nil {
		t.Fatal(err)
	}
	sts, err := srv.Main.API.SLO.Service.EvaluateOnce(ctx, clk.Now())
	if err != nil {
		t.Logf("evaluation (Prometheus SLOs have no server here): %v", err)
	}
	for _, st := range sts {
		if st.Name == name && (!st.Alerts.Page.Firing || !st.Alerts.Ticket.Firing) {
			t.Fatalf("alerts %+v", st.Alerts)
		}
	}
	type inc struct {
		ID              int64
		Title, Severity string
	}
	incidents := func() []inc {
		var l client.List[inc]
		if err := c.Do(ctx, "GET", "/api/v1/incidents", nil, nil, &l); err != nil {
			t.Fatal(err)
		}
		var out []inc
		for _, i := range l.Items {
			if strings.Contains(i.Title, name) {
				out = append(out, i)
			}
		}
		return out
	}
	opened := incidents()
	if len(opened) != 1 || opened[0].Severity != "sev2" {
		t.Fatalf("incidents after the evaluator: %+v", opened)
	}

	post := func(file string) *inc {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", "incident", "testdata", "alertmanager", file))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/webhooks/alertmanager", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var out struct{ Incident *inc }
		if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("%s: %d %s", file, resp.StatusCode, body)
		}
		return out.Incident
	}
	if got := post("slo-1-page-firing.json"); got == nil || got.ID != opened[0].ID {
		t.Errorf("the rule's page joined %+v, want #%d", got, opened[0].ID)
	}
	if got := post("slo-2-ticket-firing.json"); got != nil {
		t.Errorf("the rule's ticket opened %+v", got)
	}
	if all := incidents(); len(all) != 1 {
		t.Errorf("incidents for one burn: %+v", all)
	}

	// The SLOs' own labels (metadata.labels) reach /metrics.
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `tandem_slo_info{service="checkout",slo="checkout-availability",team="payments",tier="1"} 1`; !bytes.Contains(metrics, []byte(want)) {
		t.Errorf("/metrics lacks %s", want)
	}
}

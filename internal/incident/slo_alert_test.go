package incident_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/internal/alerting"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/testenv"
)

// The SLO whose generated alerts the captured payloads carry.
const burnSLO = "checkout-api-availability"

// The steps of the SLO alert capture.
var sloSteps = []string{"slo-1-page-firing", "slo-2-ticket-firing", "slo-3-page-resolved"}

// generatedAlerts returns the labels and annotations of the alerts the
// rules of `tandem slo rules` write for burnSLO, by alert name.
func generatedAlerts(t *testing.T) map[string]struct{ Labels, Annotations map[string]string } {
	t.Helper()
	def := &slo.Definition{Name: burnSLO, Service: "checkout", Objective: 0.999, Window: slo.Window{Rolling: 28 * 24 * time.Hour},
		Alerting: slo.DefaultPolicy(28 * 24 * time.Hour), Labels: map[string]string{"team": "payments"},
		Indicator: slo.Indicator{Source: slo.SourcePrometheus, Good: `http_requests_total{code!~"5.."}`, Total: "http_requests_total"}}
	b, err := alerting.Rules([]*slo.Definition{def})
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert               string
				Labels, Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]struct{ Labels, Annotations map[string]string }{}
	for _, r := range f.Groups[0].Rules {
		if r.Alert != "" {
			r.Labels["alertname"] = r.Alert // as Prometheus sends it
			out[r.Alert] = struct{ Labels, Annotations map[string]string }{r.Labels, r.Annotations}
		}
	}
	if len(out) != 2 {
		t.Fatalf("alerts %v", out)
	}
	return out
}

// TestSLOAlertCapture runs a real prometheus-alertmanager, posts to it the
// alerts the generated rules raise for one SLO (the page, then the ticket,
// then the page resolved), and records what it sends; with -update the
// payloads are stored in testdata/alertmanager/ for the tests that replay
// them.
func TestSLOAlertCapture(t *testing.T) {
	bin := testenv.Binary(t, "TANDEM_TEST_ALERTMANAGER", "prometheus-alertmanager")
	alerts := generatedAlerts(t)
	got := make(chan []byte, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer hook.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: tandem
  group_by: [alertname, service]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tandem
    webhook_configs:
      - url: %s/api/v1/webhooks/alertmanager
        send_resolved: true
`, hook.URL)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+dir,
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--cluster.listen-address=", "--log.level=warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i == 100 {
			t.Fatalf("alertmanager did not become ready: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond) // polling a starting process: nothing signals readiness
	}
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	post := func(name string, resolved bool) {
		a := map[string]any{"labels": alerts[name].Labels, "annotations": alerts[name].Annotations, "startsAt": start,
			"generatorURL": "http://prometheus:9090/graph"}
		if resolved {
			a["endsAt"] = time.Now().Add(-time.Second).UTC()
		}
		b, _ := json.Marshal([]any{a})
		resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("post alert: %s", resp.Status)
		}
	}
	wait := func(step string) []byte {
		select {
		case b := <-got:
			return b
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no notification from alertmanager: %s", step, stderr.String())
		}
		return nil
	}
	var payloads [][]byte
	post(slo.AlertNamePage, false)
	payloads = append(payloads, wait(sloSteps[0]))
	post(slo.AlertNameTicket, false)
	payloads = append(payloads, wait(sloSteps[1]))
	post(slo.AlertNamePage, true)
	payloads = append(payloads, wait(sloSteps[2]))
	for i, want := range []struct{ alert, status string }{{slo.AlertNamePage, "firing"}, {slo.AlertNameTicket, "firing"}, {slo.AlertNamePage, "resolved"}} {
		var p incident.AlertmanagerPayload
		if err := json.Unmarshal(payloads[i], &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Alerts) != 1 || p.Alerts[0].Labels["alertname"] != want.alert || p.Alerts[0].Status != want.status || p.Alerts[0].Labels["slo"] != burnSLO {
			t.Fatalf("%s: %s", sloSteps[i], payloads[i])
		}
	}
	if *update {
		for i, b := range payloads {
			var v any
			_ = json.Unmarshal(b, &v)
			pretty, _ := json.MarshalIndent(v, "", "  ")
			if err := os.WriteFile(filepath.Join("testdata", "alertmanager", sloSteps[i]+".json"), append(pretty, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The live payloads go where the stored ones do.
	dbtest.Each(t, func(t *testing.T, d *db.DB) { replaySLOBurn(t, d, payloads, true) })
}

func storedSLOPayloads(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, s := range sloSteps {
		b, err := os.ReadFile(filepath.Join("testdata", "alertmanager", s+".json"))
		if err != nil {
			t.Fatalf("%v (run go test -run TestSLOAlertCapture -update)", err)
		}
		out = append(out, b)
	}
	return out
}

// One burn is one incident whichever path reports it: tandem's evaluator
// (as internal/app sends its alert) and the generated rule's alert
// through Alertmanager join the incident of the SLO and severity, which
// pages once and resolves when both paths say resolved. A ticket opens
// nothing and pages nobody, from either path.
func TestSLOBurnOneIncident(t *testing.T) {
	for _, evaluatorFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("evaluator first %v", evaluatorFirst), func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) { replaySLOBurn(t, d, storedSLOPayloads(t), evaluatorFirst) })
		})
	}
}

// evaluatorAlert is the alert tandem's evaluator sends for burnSLO, as
// internal/app's sink passes it to the manager.
func evaluatorAlert(severity, status string) incident.AlertInput {
	key := incident.SLOGroupKey(burnSLO, severity)
	name := slo.AlertNamePage
	if severity == "ticket" {
		name = slo.AlertNameTicket
	}
	return incident.AlertInput{Source: "slo", GroupKey: key, Fingerprint: key, Service: "checkout", Status: status,
		Title:  "SLO " + burnSLO + " is burning its error budget fast",
		Labels: map[string]string{"alertname": name, "slo": burnSLO, "service": "checkout", "severity": severity, "team": "payments"}}
}

func replaySLOBurn(t *testing.T, d *db.DB, payloads [][]byte, evaluatorFirst bool) {
	t.Helper()
	h := newHarness(t, d, 0)
	ctx := context.Background()
	fromAM := func(b []byte) incident.Incident {
		t.Helper()
		gs, err := incident.ParseAlertmanager(b, incident.DefaultMapping())
		if err != nil || len(gs) != 1 {
			t.Fatalf("parse: %d groups, %v", len(gs), err)
		}
		inc, err := h.m.AlertGroup(ctx, gs[0])
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	fromEvaluator := func(severity, status string) incident.Incident {
		t.Helper()
		inc, err := h.m.Alert(ctx, evaluatorAlert(severity, status))
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	var first, second incident.Incident
	if evaluatorFirst {
		first, second = fromEvaluator("page", incident.Firing), fromAM(payloads[0])
	} else {
		first, second = fromAM(payloads[0]), fromEvaluator("page", incident.Firing)
	}
	if first.ID == 0 || second.ID != first.ID || first.Severity != "sev2" {
		t.Fatalf("incidents #%d (%s) and #%d, want one sev2", first.ID, first.Severity, second.ID)
	}
	h.walk(t, time.Minute, time.Minute)
	if p := h.rcv.got(); len(p) != 1 || p[0].Incident != first.ID {
		t.Fatalf("pages %v, want one for #%d", minutes(p), first.ID)
	}
	// Tickets: nothing opens, nobody is paged.
	if inc := fromAM(payloads[1]); inc.ID != 0 {
		t.Fatalf("a ticket from Alertmanager opened #%d (%s)", inc.ID, inc.Severity)
	}
	if inc := fromEvaluator("ticket", incident.Firing); inc.ID != 0 {
		t.Fatalf("a ticket from the evaluator opened #%d (%s)", inc.ID, inc.Severity)
	}
	// One path resolving leaves the incident open; both resolve it.
	if inc := fromAM(payloads[2]); inc.ID != first.ID || inc.Status != incident.Triggered {
		t.Fatalf("after Alertmanager resolved: #%d %s", inc.ID, inc.Status)
	}
	if inc := fromEvaluator("page", incident.AlertClosed); inc.ID != first.ID || inc.Status != incident.Resolved {
		t.Fatalf("after both resolved: #%d %s", inc.ID, inc.Status)
	}
	h.walk(t, 30*time.Minute, time.Minute)
	if p := h.rcv.got(); len(p) != 1 {
		t.Fatalf("pages %v, want the one", minutes(p))
	}
	list, err := h.m.List(ctx, incident.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d incidents, want 1", len(list))
	}
}

// A ticket pages once the mapping names it (incidents.alert_mapping.
// severities: {ticket: sev4}), from either path, into one incident.
func TestSLOTicketPagesWhenMapped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		h.set.Mapping.Severities = map[string]string{"page": "sev2", "critical": "sev1", "ticket": "sev4"}
		ctx := context.Background()
		gs, err := incident.ParseAlertmanager(storedSLOPayloads(t)[1], h.set.Mapping)
		if err != nil || len(gs) != 1 {
			t.Fatalf("parse: %v %v", gs, err)
		}
		a, err := h.m.AlertGroup(ctx, gs[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := h.m.Alert(ctx, evaluatorAlert("ticket", incident.Firing))
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || b.ID != a.ID || a.Severity != "sev4" {
			t.Fatalf("incidents #%d (%s) and #%d, want one sev4", a.ID, a.Severity, b.ID)
		}
		h.walk(t, time.Minute, time.Minute)
		if p := h.rcv.got(); len(p) != 1 {
			t.Fatalf("pages %v, want one", minutes(p))
		}
	})
}

// A notification holding the burn alerts of two SLOs and another alert
// opens three incidents: one per SLO and severity, one for the rest.
func TestAlertmanagerSplitsSLOs(t *testing.T) {
	p := incident.AlertmanagerPayload{Version: "4", GroupKey: "{}:{service=\"checkout\"}", Status: "firing", Alerts: []incident.AlertmanagerAlert{
		{Status: "firing", Fingerprint: "a", Labels: map[string]string{"alertname": "SLOBurnRatePage", "slo": "one", "service": "checkout", "severity": "page"}},
		{Status: "firing", Fingerprint: "b", Labels: map[string]string{"alertname": "SLOBurnRatePage", "slo": "two", "service": "checkout", "severity": "page"}},
		{Status: "firing", Fingerprint: "c", Labels: map[string]string{"alertname": "HighLatency", "service": "checkout", "severity": "critical"}},
	}}
	b, _ := json.Marshal(p)
	gs, err := incident.ParseAlertmanager(b, incident.DefaultMapping())
	if err != nil || len(gs) != 3 {
		t.Fatalf("%d groups, %v", len(gs), err)
	}
	for i, want := range []struct{ source, key, sev string }{
		{"alertmanager", p.GroupKey, "sev1"},
		{"slo", "slo:one:page", "sev2"},
		{"slo", "slo:two:page", "sev2"},
	} {
		g := gs[i]
		if g.Source != want.source || g.GroupKey != want.key || g.Severity != want.sev || len(g.Alerts) != 1 {
			t.Errorf("group %d: %+v", i, g)
		}
	}
}

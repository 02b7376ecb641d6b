package incident_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the captured Alertmanager payloads in testdata/alertmanager")

// The scenario both the live capture and the stored payloads go through.
var amSteps = []string{"1-firing", "2-second-alert", "3-one-resolved", "4-all-resolved"}

// TestAlertmanagerCapture runs a real prometheus-alertmanager with a webhook
// receiver pointing at this test, posts alerts to its API v2 and records
// what it sends: the first alert firing, a second alert joining the group,
// the first resolving, then both resolved. Each live payload is checked as
// it arrives; with -update they are stored in testdata/alertmanager/ for
// the tests that replay them.
func TestAlertmanagerCapture(t *testing.T) {
	bin := testenv.Binary(t, "TANDEM_TEST_ALERTMANAGER", "prometheus-alertmanager")
	got := make(chan []byte, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer hook.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  resolve_timeout: 1m
route:
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
        http_config:
          authorization:
            type: Bearer
            credentials: tdm_test_token
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
	ready := false
	for i := 0; i < 100 && !ready; i++ {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			ready = resp.StatusCode == 200
			resp.Body.Close()
		}
		if !ready {
			time.Sleep(100 * time.Millisecond) // polling a starting process: nothing signals readiness
		}
	}
	if !ready {
		t.Fatalf("alertmanager did not become ready: %s", stderr.String())
	}
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	post := func(instance string, resolved bool) {
		a := map[string]any{
			"labels":      map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "page", "instance": instance},
			"annotations": map[string]string{"summary": "checkout error rate above 5%", "description": "5xx ratio over the last 5 minutes is above the SLO burn threshold."},
			"startsAt":    start,
		}
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
	post("10.0.0.1:8080", false)
	payloads = append(payloads, wait(amSteps[0]))
	post("10.0.0.2:8080", false)
	payloads = append(payloads, wait(amSteps[1]))
	post("10.0.0.1:8080", true)
	payloads = append(payloads, wait(amSteps[2]))
	post("10.0.0.2:8080", true)
	payloads = append(payloads, wait(amSteps[3]))

	// What each live payload must say.
	want := []struct {
		status string
		alerts []string // alert statuses by instance order a, b
	}{
		{"firing", []string{"firing"}},
		{"firing", []string{"firing", "firing"}},
		{"firing", []string{"resolved", "firing"}},
		// Alertmanager does not repeat a resolved alert it has already
		// sent: the last notification carries only the second alert.
		{"resolved", []string{"resolved"}},
	}
	for i, b := range payloads {
		var p incident.AlertmanagerPayload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s: %v", amSteps[i], err)
		}
		var st []string
		for _, inst := range []string{"10.0.0.1:8080", "10.0.0.2:8080"} {
			for _, a := range p.Alerts {
				if a.Labels["instance"] == inst {
					st = append(st, a.Status)
				}
			}
		}
		if p.Version != "4" || p.Status != want[i].status || !slices.Equal(st, want[i].alerts) || p.GroupKey == "" {
			t.Fatalf("%s: version %s status %s alerts %v, want 4 %s %v\n%s", amSteps[i], p.Version, p.Status, st, want[i].status, want[i].alerts, b)
		}
	}
	if *update {
		out := filepath.Join("testdata", "alertmanager")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range payloads {
			var v any
			_ = json.Unmarshal(b, &v)
			pretty, _ := json.MarshalIndent(v, "", "  ")
			if err := os.WriteFile(filepath.Join(out, amSteps[i]+".json"), append(pretty, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The live payloads drive an incident the same way the stored ones do.
	replayAlertmanager(t, dbtest.SQLite(t), payloads)
}

// parseOneGroup parses an Alertmanager notification that must map to one
// alert group.
func parseOneGroup(b []byte, mp incident.Mapping) (incident.AlertGroup, error) {
	gs, err := incident.ParseAlertmanager(b, mp)
	if err != nil {
		return incident.AlertGroup{}, err
	}
	if len(gs) != 1 {
		return incident.AlertGroup{}, fmt.Errorf("%d alert groups, want 1", len(gs))
	}
	return gs[0], nil
}

func storedPayloads(t *testing.T) [][]byte {
	var out [][]byte
	for _, s := range amSteps {
		b, err := os.ReadFile(filepath.Join("testdata", "alertmanager", s+".json"))
		if err != nil {
			t.Fatalf("%v (run go test -run TestAlertmanagerCapture -update)", err)
		}
		out = append(out, b)
	}
	return out
}

// The stored real payloads open one incident, update it, and resolve it
// when every alert is resolved; each delivered twice (Alertmanager retries)
// changes nothing the second time.
func TestAlertmanagerPayloads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) { replayAlertmanager(t, d, storedPayloads(t)) })
}

func replayAlertmanager(t *testing.T, d *db.DB, payloads [][]byte) {
	t.Helper()
	h := newHarness(t, d, 0)
	ctx := context.Background()
	var id int64
	for i, b := range payloads {
		for dup := 0; dup < 2; dup++ {
			g, err := parseOneGroup(b, incident.DefaultMapping())
			if err != nil {
				t.Fatalf("%s: %v", amSteps[i], err)
			}
			inc, err := h.m.AlertGroup(ctx, g)
			if err != nil {
				t.Fatalf("%s: %v", amSteps[i], err)
			}
			if id == 0 {
				id = inc.ID
			}
			if inc.ID != id {
				t.Fatalf("%s: incident #%d, want #%d (one incident per group)", amSteps[i], inc.ID, id)
			}
			wantStatus := incident.Triggered
			if i == 3 {
				wantStatus = incident.Resolved
			}
			if inc.Status != wantStatus || inc.Severity != "sev2" || !slices.Equal(inc.Services, []string{"checkout"}) {
				t.Fatalf("%s: %s %s %v, want %s sev2 [checkout]", amSteps[i], inc.Status, inc.Severity, inc.Services, wantStatus)
			}
		}
		h.walk(t, time.Minute, time.Minute)
	}
	inc, _ := h.m.Get(ctx, id)
	if inc.Title != "checkout error rate above 5%" {
		t.Fatalf("title %q", inc.Title)
	}
	tl, _ := h.m.Timeline(ctx, id)
	var kinds []string
	for _, e := range tl {
		if e.Kind == incident.EvAlertFired || e.Kind == incident.EvAlertResolve || e.Kind == incident.EvStatus {
			kinds = append(kinds, e.Kind)
		}
	}
	want := []string{"alert_fired", "alert_fired", "alert_resolved", "alert_resolved", "status"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("timeline %v, want %v", kinds, want)
	}
	if p := h.rcv.got(); len(p) != 1 || p[0].To != "dev1" {
		t.Fatalf("pages %v, want dev1 once", minutes(p))
	}
}

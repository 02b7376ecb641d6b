package moduletest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
)

// repoRoot is the tandem repository this module replaces its dependency
// with (go.mod: replace github.com/tandemhq/tandem => ../..).
const repoRoot = "../.."

// From another module, the client records a deploy, reads DORA and
// acknowledges an incident on a real tandem server; every value it
// sends or reads is one of the client's own types.
func TestClientFromAnotherModule(t *testing.T) {
	base, token := serve(t)
	c, err := client.New(base, token, client.WithUserAgent("moduletest"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	finished := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var deploy client.ChangeEvent = client.ChangeEvent{Service: "checkout", Kind: "deploy", Version: "1.4.2",
		Commit: "0123456789abcdef0123456789abcdef01234567", FinishedAt: finished, Source: "moduletest", ExternalID: "deploy-1"}
	rec, err := c.RecordChange(ctx, deploy)
	if err != nil {
		t.Fatalf("RecordChange: %v", err)
	}
	if rec.ID == 0 || rec.Status != "success" || rec.Environment != "production" || !rec.FinishedAt.Equal(finished) || rec.Existing {
		t.Errorf("recorded deploy %+v", rec)
	}
	again, err := c.RecordChange(ctx, deploy)
	if err != nil || again.ID != rec.ID || !again.Existing {
		t.Errorf("the same source and external id again: %+v %v", again, err)
	}

	var r client.DORAReport
	r, err = c.DORA(ctx, client.DORAQuery{Services: []string{"checkout"}, Since: "7d"})
	if err != nil {
		t.Fatalf("DORA: %v", err)
	}
	// One successful deploy and nothing else: no failure, and no commit
	// times, so lead time and recovery time are missing, not zero.
	if r.Service != "checkout" || r.Deploys != 1 || r.SuccessfulDeploys != 1 || r.FailedDeploys != 0 {
		t.Errorf("DORA counts %+v", r)
	}
	if r.ChangeFailureRate == nil || *r.ChangeFailureRate != 0 {
		t.Errorf("change failure rate %v, want 0 of 1 deploy", r.ChangeFailureRate)
	}
	if r.LeadTimeMedianSeconds != nil || r.LeadTimeTier != "no_data" || r.RecoveryTimeMedianSeconds != nil || r.RecoveryTimeTier != "no_data" {
		t.Errorf("lead time %v (%s), recovery time %v (%s): want null and no_data", r.LeadTimeMedianSeconds, r.LeadTimeTier,
			r.RecoveryTimeMedianSeconds, r.RecoveryTimeTier)
	}

	var inc client.Incident
	inc, err = c.OpenIncident(ctx, client.NewIncident{Title: "checkout errors after 1.4.2", Services: []string{"checkout"}, Severity: "sev2"})
	if err != nil {
		t.Fatalf("OpenIncident: %v", err)
	}
	if inc.ID == 0 || inc.Status != "triggered" || inc.AcknowledgedAt != nil {
		t.Errorf("opened incident %+v", inc)
	}
	acked, err := c.IncidentAction(ctx, inc.ID, "ack", "")
	if err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if acked.Status != "acknowledged" || acked.AcknowledgedAt == nil || acked.ResolvedAt != nil {
		t.Errorf("acknowledged incident %+v", acked)
	}
	got, err := c.Incident(ctx, inc.ID)
	if err != nil || got.Status != "acknowledged" {
		t.Errorf("incident after the ack: %+v %v", got, err)
	}
	found := false
	for _, s := range got.Suspects {
		found = found || s.ChangeID == rec.ID
	}
	if !found {
		t.Errorf("the deploy an hour before is not among the incident's suspects: %+v", got.Suspects)
	}

	// Errors come back as *tandem.Error from the root package.
	_, err = c.IncidentAction(ctx, inc.ID+1000, "ack", "")
	if tandem.ErrorCode(err) != tandem.ENotFound {
		t.Errorf("ack of an unknown incident: %v", err)
	}
}

// serve builds tandem from the repository, starts `tandem serve` on a
// fresh SQLite directory with the example config, and returns its URL and
// a write token made by `tandem token create`.
func serve(t *testing.T) (base, token string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tandem")
	build := exec.Command("go", append(append([]string{"build"}, raceFlags...), "-o", bin, "./cmd/tandem")...)
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tandem: %v\n%s", err, out)
	}
	dir := t.TempDir()
	srv := exec.Command(bin, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--config", filepath.Join(repoRoot, "examples", "tandem.d"))
	srv.Env = append(os.Environ(), "TANDEM_LOG_FORMAT=json")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		defer close(addr)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("tandem serve exited before serving: %v", srv.Wait())
		}
		base = "http://" + a
	case <-time.After(time.Minute):
		t.Fatal("tandem serve did not start serving within a minute")
	}
	out, err := exec.Command(bin, "token", "create", "--name", "moduletest", "--scope", "write", "--data-dir", dir).Output()
	if err != nil {
		t.Fatalf("tandem token create: %v", err)
	}
	return base, strings.TrimSpace(string(out))
}

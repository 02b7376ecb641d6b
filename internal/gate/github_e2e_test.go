package gate_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/github/githubtest"
)

// TestGitHubReportingEndToEnd: a deploy arrives by GitHub's
// deployment_status webhook and keeps its deployment id; a gate result
// recorded through the API with the commit becomes a check run, and a
// failed verification of the deploy a failing check run and a failure
// deployment status, posted by the server's engine with the token of
// gates.github.
func TestGitHubReportingEndToEnd(t *testing.T) {
	gh := githubtest.New(t)
	gh.AddToken("ghs_e2e")
	gh.AddCommit("example/checkout", headSHA)
	gh.AddDeployment("example/checkout", 145988746)
	t.Setenv("TANDEM_TEST_GITHUB_TOKEN", "ghs_e2e")
	dir := configDir(t)
	cfg := "github:\n  webhook_secret: s3cret\n  repositories: {example/checkout: checkout}\n" +
		"gates:\n  github:\n    api_url: " + gh.URL + "\n    token_env: TANDEM_TEST_GITHUB_TOKEN\n"
	if err := os.WriteFile(filepath.Join(dir, "gates.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir})
	ctx := context.Background()

	body, err := os.ReadFile("../change/testdata/github/deployment_status.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/webhooks/github", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "deployment_status")
	req.Header.Set(change.SignatureHeader, change.Sign([]byte("s3cret"), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %v %v", resp, err)
	}
	resp.Body.Close()
	evs, err := srv.Client.Changes(ctx, client.ChangeQuery{Services: []string{"checkout"}})
	if err != nil || len(evs) != 1 || evs[0].GitHubDeploymentID != 145988746 {
		t.Fatalf("changes after the webhook: %+v %v", evs, err)
	}

	pass, err := srv.Client.RecordGate(ctx, client.GateResult{Kind: gate.KindSLO, Service: "checkout", Verdict: gate.Pass, Commit: headSHA,
		Checks: []client.GateCheck{{Name: "budget_remaining checkout-api-availability", Value: gate.Measured(0.6), Op: ">=", Threshold: 0.1, Unit: "ratio", Verdict: gate.Pass}}})
	if err != nil {
		t.Fatal(err)
	}
	fail, err := srv.Client.RecordGate(ctx, client.GateResult{Kind: gate.KindVerify, Service: "checkout", Verdict: gate.Fail, ChangeID: evs[0].ID,
		Checks: []client.GateCheck{{Name: "error_ratio checkout-api-availability", Value: gate.Measured(0.2), Op: "<=", Threshold: 0.01, Unit: "ratio", Verdict: gate.Fail}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Main.Engine.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	runs, statuses := gh.Snapshot()
	want := map[string]string{"tandem-gate-result-" + itoa(pass.ID): "success", "tandem-gate-result-" + itoa(fail.ID): "failure"}
	if len(runs) != 2 {
		t.Fatalf("check runs %+v, want 2", runs)
	}
	for _, r := range runs {
		if want[r.ExternalID] != r.Conclusion || r.HeadSHA != headSHA || r.Repo != "example/checkout" {
			t.Errorf("check run %+v", r)
		}
	}
	if len(statuses) != 1 || statuses[0].State != "failure" || statuses[0].DeploymentID != 145988746 {
		t.Errorf("deployment statuses %+v", statuses)
	}
}

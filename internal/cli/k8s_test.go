package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/cli"
)

// TestDeployRecordFromK8s records deploys from `kubectl get -o json`
// output, from a file and from stdin as the Argo CD PostSync hook of
// docs/changes.md pipes it: once per object generation, with flags that
// override the object, and bad input refused with nothing recorded.
func TestDeployRecordFromK8s(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	conn := []string{"--url", s.URL, "--token", s.AdminToken}
	fixture := func(name string) string { return filepath.Join("..", "change", "testdata", "k8s", name) }

	for i, want := range []string{"recorded deploy", "already recorded deploy"} {
		code, out, errOut := runCLI(t, append([]string{"deploy", "record", "--from-k8s", fixture("deployment.json")}, conn...)...)
		if code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "checkout 1.4.2 success in production") {
			t.Fatalf("record %d: %d %q %q", i+1, code, out, errOut)
		}
	}
	// stdin, a List of two Rollouts.
	b, err := os.ReadFile(fixture("rollout-list.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), append([]string{"deploy", "record", "--from-k8s", "-", "--label", "argocd"}, conn...), bytes.NewReader(b), &out, &errOut)
	if code != 0 || strings.Count(out.String(), "recorded deploy") != 2 || !strings.Contains(out.String(), "identity-api 5.0.1 failed in staging") {
		t.Fatalf("stdin: %d %q %q", code, out.String(), errOut.String())
	}
	// A flag overrides the object.
	code, o, e := runCLI(t, append([]string{"deploy", "record", "--from-k8s", fixture("deployment-stalled.json"), "--env", "production", "--version", "2.8.0"}, conn...)...)
	if code != 0 || !strings.Contains(o, "payments-api 2.8.0 failed in production") {
		t.Fatalf("override: %d %q %q", code, o, e)
	}
	evs, err := s.Main.API.Change.Store.List(context.Background(), change.Filter{})
	if err != nil || len(evs) != 4 {
		t.Fatalf("stored %d %v", len(evs), err)
	}
	for _, e := range evs {
		if e.Service == "search-api" && (e.Source != "kubernetes" || !e.HasLabel("argocd") || !e.HasLabel("k8s:Rollout") || e.Environment != "production") {
			t.Errorf("search-api: %+v", e)
		}
		if e.Service == "checkout" && (e.Actor == "" || !strings.HasPrefix(e.Actor, "kubectl set image") || e.Commit != "9f2c1e7ab34d") {
			t.Errorf("checkout: %+v", e)
		}
	}
	// Bad input: a clear error, exit 1, nothing recorded.
	bad := filepath.Join(t.TempDir(), "svc.json")
	if err := os.WriteFile(bad, []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"checkout"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--from-k8s", bad}, "want a Deployment (apps/v1) or an Argo Rollout"},
		{[]string{"--from-k8s", filepath.Join(t.TempDir(), "missing.json")}, "no such file"},
		{[]string{"--from-k8s", fixture("rollout-list.json"), "--service", "checkout"}, "the List holds 2 objects"},
		{[]string{"--from-k8s", fixture("deployment.json"), "--repo", "."}, "not with --from-k8s"},
	} {
		code, _, e := runCLI(t, append(append([]string{"deploy", "record"}, c.args...), conn...)...)
		if code != 1 || !strings.Contains(e, c.want) {
			t.Errorf("%v: %d %q, want %q", c.args, code, e, c.want)
		}
	}
	if evs, _ := s.Main.API.Change.Store.List(context.Background(), change.Filter{}); len(evs) != 4 {
		t.Errorf("bad input recorded something: %d events", len(evs))
	}
}

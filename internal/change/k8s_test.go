package change

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
)

func k8sFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "k8s", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseKubernetes reads Deployments and Rollouts as `kubectl get -o
// json` prints them: the recommended labels, the tandem.dev overrides, the
// image tag or digest as the version's fallback, the namespace as the
// environment, the change-cause as the actor, and a stalled or aborted
// rollout as a failed deploy.
func TestParseKubernetes(t *testing.T) {
	evs, err := ParseKubernetes(k8sFixture(t, "deployment.json"))
	if err != nil || len(evs) != 1 {
		t.Fatalf("%v %v", evs, err)
	}
	e := evs[0]
	if e.Service != "checkout" || e.Version != "1.4.2" || e.Environment != "production" || e.Commit != "9f2c1e7ab34d" ||
		e.Actor != "kubectl set image deployment/checkout checkout=ghcr.io/example/checkout:1.4.2" || e.Status != StatusSuccess ||
		e.Source != SourceKubernetes || e.ExternalID != "5b0f7a52-1c3e-4d8a-9d1f-0f3a2a6b9c11/12" ||
		!slices.Equal(e.Labels, []string{"k8s:Deployment", "part-of:shop"}) || e.Kind != KindDeploy {
		t.Errorf("deployment: %+v", e)
	}

	evs, err = ParseKubernetes(k8sFixture(t, "deployment-stalled.json"))
	if err != nil || len(evs) != 1 {
		t.Fatalf("%v %v", evs, err)
	}
	e = evs[0]
	// No app.kubernetes.io labels: the name is the service, the tag of the
	// container named like it (not the sidecar, not the registry's port)
	// the version, the tandem label the environment.
	if e.Service != "payments-api" || e.Version != "2.8.0-rc.1" || e.Environment != "staging" || e.Status != StatusFailed ||
		!strings.Contains(e.FailureReason, "ProgressDeadlineExceeded: ReplicaSet") {
		t.Errorf("stalled: %+v", e)
	}

	evs, err = ParseKubernetes(k8sFixture(t, "rollout-list.json"))
	if err != nil || len(evs) != 2 {
		t.Fatalf("%v %v", evs, err)
	}
	if e := evs[0]; e.Service != "search-api" || e.Version != "sha256:3b4f1c9d2e8a7f6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b" ||
		e.Environment != "production" || e.Status != StatusSuccess || e.Labels[0] != "k8s:Rollout" {
		t.Errorf("rollout: %+v", e)
	}
	if e := evs[1]; e.Service != "identity-api" || e.Version != "5.0.1" || e.Environment != "staging" || e.Status != StatusFailed ||
		!strings.HasPrefix(e.FailureReason, "rollout aborted: RolloutAborted") {
		t.Errorf("aborted rollout: %+v", e)
	}
	for _, e := range evs {
		if err := e.Normalize("", time.Now()); err != nil {
			t.Errorf("%s does not normalize: %v", e.Service, err)
		}
	}

	for in, want := range map[string]string{
		``:   "want the JSON",
		`[]`: "want the JSON",
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"checkout"}}`:             "want a Deployment",
		`{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db"}}`:          "want a Deployment",
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{}}`:                      "no metadata.name",
		`{"apiVersion":"v1","kind":"List","items":[]}`:                                    "the selection is empty",
		`{"apiVersion":"v1","kind":"List","items":[{"kind":"Pod","apiVersion":"v1"}]}`:    "items[0]",
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a"}} {"a": 1}`:   "more than one JSON value",
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","labels":1}}`: "want the JSON",
	} {
		_, err := ParseKubernetes([]byte(in))
		if tandem.ErrorCode(err) != tandem.EInvalid || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an invalid error with %q", in, err, want)
		}
	}
}

func TestImageVersion(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                        "",
		"nginx:1.27":                   "1.27",
		"localhost:5000/app":           "",
		"localhost:5000/app:v2":        "v2",
		"ghcr.io/a/b@sha256:abc":       "sha256:abc",
		"ghcr.io/a/b:1.0@sha256:abc":   "1.0",
		"registry:5000/team/app:1.2.3": "1.2.3",
	} {
		if got := imageVersion(in); got != want {
			t.Errorf("imageVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseKubernetes: any input is either an invalid error naming
// from-k8s, or deploy events with a service and a kind, which Normalize
// accepts or refuses with an invalid error (never a panic).
func FuzzParseKubernetes(f *testing.F) {
	for _, name := range []string{"deployment.json", "deployment-stalled.json", "rollout-list.json"} {
		f.Add(k8sFixture(f, name))
	}
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{}]}`))
	f.Add([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a"},"spec":{"template":{"spec":{"containers":[{"image":"@"}]}}}}`))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := ParseKubernetes(b)
		if err != nil {
			var te *tandem.Error
			if tandem.ErrorCode(err) != tandem.EInvalid || !asErr(err, &te) || !strings.HasPrefix(te.Field, "from-k8s") {
				t.Fatalf("ParseKubernetes(%q) = %v, want an invalid error naming from-k8s", b, err)
			}
			return
		}
		if len(evs) == 0 {
			t.Fatalf("ParseKubernetes(%q) gave no event and no error", b)
		}
		for _, e := range evs {
			if e.Service == "" || e.Kind != KindDeploy || e.Environment == "" || len(e.Actor) > maxText || len(e.FailureReason) > maxText {
				t.Fatalf("ParseKubernetes(%q) gave %+v", b, e)
			}
			if err := e.Normalize("", now); err != nil && tandem.ErrorCode(err) != tandem.EInvalid {
				t.Fatalf("Normalize(%+v) = %v", e, err)
			}
		}
	})
}

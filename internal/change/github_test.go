package change

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
)

func ghOptions() GitHubOptions {
	return GitHubOptions{
		Service: func(full, html string) (string, bool) {
			if full == "example/checkout" {
				return "checkout", true
			}
			return "", false
		},
		DeployWorkflows: []string{"Deploy"},
	}
}

func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/github/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignature(t *testing.T) {
	body := payload(t, "deployment_status.json")
	secret := []byte("It's a Secret to Everybody")
	good := Sign(secret, body)
	for _, c := range []struct {
		name, header string
		secret       []byte
		want         bool
	}{
		{"right", good, secret, true},
		{"missing", "", secret, false},
		{"sha1 form", "sha1=" + strings.TrimPrefix(good, "sha256="), secret, false},
		{"not hex", "sha256=zz", secret, false},
		{"wrong secret", Sign([]byte("other"), body), secret, false},
		{"no secret configured", good, nil, false},
	} {
		if got := VerifySignature(c.secret, body, c.header); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// GitHub's documented test vector.
	if got := Sign(secret, []byte("Hello, World!")); got != "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Errorf("documented vector: %s", got)
	}
}

func TestParseDeploymentStatus(t *testing.T) {
	res, err := ParseGitHub("deployment_status", payload(t, "deployment_status.json"), ghOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 {
		t.Fatalf("events = %+v", res)
	}
	e := res.Events[0]
	want := Event{Service: "checkout", Environment: "production", Kind: "deploy", Version: "v1.4.2",
		Commit: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", Status: "success", Actor: "alice", Source: "github",
		ExternalID: "deployment/example/checkout/145988746", GitHubDeploymentID: 145988746,
		StartedAt: time.Date(2026, 3, 1, 9, 19, 27, 0, time.UTC), FinishedAt: time.Date(2026, 3, 1, 9, 24, 31, 0, time.UTC)}
	if e.Service != want.Service || e.Environment != want.Environment || e.Version != want.Version || e.Commit != want.Commit ||
		e.Status != want.Status || e.Actor != want.Actor || e.ExternalID != want.ExternalID || !e.StartedAt.Equal(want.StartedAt) ||
		!e.FinishedAt.Equal(want.FinishedAt) || e.Links["deployment"] == "" || e.GitHubDeploymentID != want.GitHubDeploymentID {
		t.Errorf("event:\n got  %+v\n want %+v", e, want)
	}
	failed := strings.Replace(string(payload(t, "deployment_status.json")), `"state": "success"`, `"state": "failure"`, 1)
	res, err = ParseGitHub("deployment_status", []byte(failed), ghOptions())
	if err != nil || res.Events[0].Status != StatusFailed {
		t.Fatalf("failure: %+v %v", res, err)
	}
	pending := strings.Replace(string(payload(t, "deployment_status.json")), `"state": "success"`, `"state": "in_progress"`, 1)
	res, err = ParseGitHub("deployment_status", []byte(pending), ghOptions())
	if err != nil || res.Events[0].Status != StatusInProgress || !res.Events[0].FinishedAt.IsZero() {
		t.Fatalf("in progress: %+v %v", res, err)
	}
	other := strings.ReplaceAll(string(payload(t, "deployment_status.json")), "example/checkout", "example/unknown")
	if _, err := ParseGitHub("deployment_status", []byte(other), ghOptions()); tandem.ErrorCode(err) != tandem.EUnprocessable {
		t.Fatalf("unknown repository: %v", err)
	}
}

func TestParsePush(t *testing.T) {
	res, err := ParseGitHub("push", payload(t, "push.json"), ghOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Commits) != 2 || res.Commits[0].SHA != "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c" ||
		!res.Commits[0].CommittedAt.Equal(time.Date(2026, 3, 1, 7, 5, 12, 0, time.UTC)) || res.Commits[0].Service != "checkout" {
		t.Fatalf("commits = %+v", res.Commits)
	}
	branch := strings.Replace(string(payload(t, "push.json")), `"ref": "refs/heads/main"`, `"ref": "refs/heads/feature"`, 1)
	res, err = ParseGitHub("push", []byte(branch), ghOptions())
	if err != nil || len(res.Commits) != 0 || res.Ignored == "" {
		t.Fatalf("feature branch: %+v %v", res, err)
	}
}

func TestParseWorkflowRun(t *testing.T) {
	res, err := ParseGitHub("workflow_run", payload(t, "workflow_run.json"), ghOptions())
	if err != nil {
		t.Fatal(err)
	}
	e := res.Events[0]
	if e.Status != StatusSuccess || e.ExternalID != "workflow_run/example/checkout/30433642/1" || e.Links["ci"] == "" ||
		!e.FinishedAt.Equal(time.Date(2026, 3, 1, 9, 18, 40, 0, time.UTC)) || e.Environment != "production" {
		t.Fatalf("event = %+v", e)
	}
	o := ghOptions()
	o.DeployWorkflows = []string{"Release"}
	res, err = ParseGitHub("workflow_run", payload(t, "workflow_run.json"), o)
	if err != nil || len(res.Events) != 0 || res.Ignored == "" {
		t.Fatalf("not a deploy workflow: %+v %v", res, err)
	}
	cancelled := strings.Replace(string(payload(t, "workflow_run.json")), `"conclusion": "success"`, `"conclusion": "cancelled"`, 1)
	res, err = ParseGitHub("workflow_run", []byte(cancelled), ghOptions())
	if err != nil || len(res.Events) != 0 {
		t.Fatalf("cancelled: %+v %v", res, err)
	}
}

func TestParseBadPayloads(t *testing.T) {
	for _, c := range []struct{ event, body string }{
		{"deployment_status", `{`},
		{"deployment_status", `{"deployment": {"id": "x"}}`},
		{"deployment_status", `{"repository": {"full_name": "example/checkout"}, "deployment": {"id": 1}, "deployment_status": {"state": "weird"}}`},
		{"push", `{"repository": {"full_name": "example/checkout"}, "ref": "refs/heads/main", "commits": [{"id": "abc1234", "timestamp": "yesterday"}]}`},
		{"", `{}`},
	} {
		if _, err := ParseGitHub(c.event, []byte(c.body), ghOptions()); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("%s %s: %v, want invalid", c.event, c.body, err)
		}
	}
}

// FuzzParseGitHub: no payload may panic, and every error is an
// application error (never an internal one).
func FuzzParseGitHub(f *testing.F) {
	for _, n := range []string{"deployment_status", "push", "workflow_run", "pull_request"} {
		f.Add(n, payload(f, n+".json"))
	}
	f.Add("push", []byte(`{"commits":[{"timestamp":"2026-13-01T00:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		res, err := ParseGitHub(event, body, ghOptions())
		if err != nil {
			if c := tandem.ErrorCode(err); c == tandem.EInternal {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, e := range res.Events {
			_ = e.Normalize("", now)
		}
		for _, c := range res.Commits {
			_ = c.Normalize("", now)
		}
	})
}

func TestParsePullRequest(t *testing.T) {
	res, err := ParseGitHub("pull_request", payload(t, "pull_request.json"), ghOptions())
	if err != nil {
		t.Fatal(err)
	}
	merged := time.Date(2026, 3, 1, 9, 10, 0, 0, time.UTC)
	if len(res.Commits) != 2 || res.Commits[0].SHA != "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c" || !res.Commits[0].MergedAt.Equal(merged) ||
		res.Commits[1].SHA != "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" {
		t.Fatalf("commits = %+v", res.Commits)
	}
	open := strings.Replace(string(payload(t, "pull_request.json")), `"merged": true`, `"merged": false`, 1)
	if res, err := ParseGitHub("pull_request", []byte(open), ghOptions()); err != nil || len(res.Commits) != 0 || res.Ignored == "" {
		t.Fatalf("not merged: %+v %v", res, err)
	}
}

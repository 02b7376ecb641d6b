package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/cli"
	"github.com/tandemhq/tandem/internal/dora"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// gitRepo writes commits and tags with chosen times into a repository on
// disk, through go-git's object store.
type gitRepo struct {
	t    *testing.T
	repo *git.Repository
	tree plumbing.Hash
}

func newGitRepo(t *testing.T) (*gitRepo, string) {
	dir := t.TempDir()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	g := &gitRepo{t: t, repo: r}
	obj := r.Storer.NewEncodedObject()
	(&object.Tree{}).Encode(obj)
	g.tree, _ = r.Storer.SetEncodedObject(obj)
	return g, dir
}

func (g *gitRepo) commit(msg string, when time.Time, parents ...plumbing.Hash) plumbing.Hash {
	sig := object.Signature{Name: "Dev", Email: "dev@example.com", When: when}
	obj := g.repo.Storer.NewEncodedObject()
	if err := (&object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: g.tree, ParentHashes: parents}).Encode(obj); err != nil {
		g.t.Fatal(err)
	}
	h, err := g.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		g.t.Fatal(err)
	}
	return h
}

func (g *gitRepo) tag(name string, h plumbing.Hash) {
	if err := g.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewTagReferenceName(name), h)); err != nil {
		g.t.Fatal(err)
	}
}

func TestDeployCommands(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	conn := []string{"--url", s.URL, "--token", s.AdminToken}

	// The same --id twice stores one deploy.
	for i, want := range []string{"recorded deploy", "already recorded deploy"} {
		code, out, errOut := runCLI(t, append([]string{"deploy", "record", "--service", "search-api", "--version", "2.0.0",
			"--commit", "abcdef1", "--id", "ci-42", "--label", "hotfix", "--github-deployment-id", "145988746"}, conn...)...)
		if code != 0 || !strings.HasPrefix(out, want) {
			t.Fatalf("record %d: %d %q %q", i+1, code, out, errOut)
		}
	}
	code, out, _ := runCLI(t, append([]string{"changes", "--service", "search-api", "--format", "json"}, conn...)...)
	var evs []map[string]any
	if json.Unmarshal([]byte(out), &evs); code != 0 || len(evs) != 1 {
		t.Fatalf("changes: %d %s", code, out)
	}
	if id, _ := evs[0]["github_deployment_id"].(float64); id != 145988746 {
		t.Errorf("github_deployment_id = %v, want 145988746", evs[0]["github_deployment_id"])
	}
	// Bad input: unknown service with close names, exit 1.
	code, _, errOut := runCLI(t, append([]string{"deploy", "record", "--service", "serch-api"}, conn...)...)
	if code != 1 || !strings.Contains(errOut, "search-api") || !strings.Contains(errOut, "unprocessable") {
		t.Errorf("unknown service: %d %q", code, errOut)
	}
	// start then finish by id.
	code, _, errOut = runCLI(t, append([]string{"deploy", "start", "--service", "identity-api", "--id", "p-9", "--version", "3.1"}, conn...)...)
	if code != 0 {
		t.Fatalf("start: %s", errOut)
	}
	code, out, errOut = runCLI(t, append([]string{"deploy", "finish", "--service", "identity-api", "--id", "p-9", "--status", "failed", "--reason", "smoke"}, conn...)...)
	if code != 0 || !strings.HasPrefix(out, "finished deploy") || !strings.Contains(out, "failed") {
		t.Fatalf("finish: %d %q %q", code, out, errOut)
	}
	// change record of another kind, and the suspects around now.
	if code, _, errOut = runCLI(t, append([]string{"change", "record", "--kind", "config", "--service", "identity-api", "--version", "pool 10->20"}, conn...)...); code != 0 {
		t.Fatalf("change record: %s", errOut)
	}
	code, out, _ = runCLI(t, append([]string{"changes", "--service", "identity-api", "--around", time.Now().UTC().Format(time.RFC3339), "--window", "1h"}, conn...)...)
	if code != 0 || !strings.Contains(out, "config") || !strings.Contains(out, "deploy") {
		t.Errorf("changes --around: %d %s", code, out)
	}
}

func TestImportTagsAndDORA(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	conn := []string{"--url", s.URL, "--token", s.AdminToken}
	g, dir := newGitRepo(t)
	base := time.Now().UTC().Truncate(time.Hour).Add(-10 * 24 * time.Hour)
	c1 := g.commit("c1", base)
	c2 := g.commit("c2", base.Add(time.Hour), c1)
	g.tag("deploy-checkout-"+base.Add(2*time.Hour).Format("2006-01-02-150405"), c2)
	c3 := g.commit("c3", base.Add(24*time.Hour), c2)
	c4 := g.commit("c4", base.Add(26*time.Hour), c3)
	g.tag("deploy-checkout-"+base.Add(30*time.Hour).Format("2006-01-02-150405"), c4)
	c5 := g.commit("c5", base.Add(48*time.Hour), c4)
	g.tag("deploy-checkout-"+base.Add(49*time.Hour).Format("2006-01-02-150405"), c5)
	g.tag("v1.0.0", c5)

	code, out, errOut := runCLI(t, append([]string{"deploy", "import-tags", "--repo", dir, "--service", "checkout", "--pattern", "deploy-checkout-*"}, conn...)...)
	if code != 0 || !strings.Contains(out, "3 tags, 4 commits read: 3 new deploys (0 already recorded), 4 new commits") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, append([]string{"deploy", "import-tags", "--repo", dir, "--service", "checkout", "--pattern", "deploy-checkout-*"}, conn...)...)
	if code != 0 || !strings.Contains(out, "0 new deploys (3 already recorded), 0 new commits") {
		t.Fatalf("second import: %d %q", code, out)
	}
	// A pattern that matches nothing says so, and what the tags are.
	code, out, errOut = runCLI(t, append([]string{"deploy", "import-tags", "--repo", dir, "--service", "checkout", "--pattern", "deploy-chekout-*"}, conn...)...)
	if code != 1 || !strings.Contains(errOut, `--pattern: no tag of `+dir+` matches "deploy-chekout-*"; nothing recorded (it has 4 tags, such as`) || !strings.Contains(errOut, "v1.0.0") {
		t.Errorf("import with a pattern that matches nothing: %d %q %q", code, out, errOut)
	}

	// Lead times: c2 1h (baseline tag: head only); c3 30h-24h = 6h, c4 4h;
	// c5 1h. Sorted 1 1 4 6 (h), n=4: median h=1.5 -> 1 + 0.5*(4-1) = 2.5h = 9000 s;
	// p90 h=2.7 -> 4 + 0.7*(6-4) = 5.4h = 19440 s.
	from, to := base.Add(-time.Hour).Format(time.RFC3339), base.Add(3*24*time.Hour).Format(time.RFC3339)
	code, out, errOut = runCLI(t, append([]string{"dora", "--service", "checkout", "--from", from, "--to", to, "--format", "json"}, conn...)...)
	var r dora.Report
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("dora json: %d %v %q", code, err, errOut)
	}
	if r.Deploys != 3 || r.LeadTimeCommits != 4 || r.LeadTimeMedianSeconds == nil || *r.LeadTimeMedianSeconds != 9000 ||
		*r.LeadTimeP90Seconds != 19440 || r.LeadTimeTier != dora.Elite || r.Service != "checkout" {
		t.Errorf("dora: %s", out)
	}
	for _, key := range []string{"deployment_frequency_per_day", "lead_time_median_seconds", "lead_time_p90_seconds",
		"change_failure_rate", "recovery_time_median_seconds", "rework_rate"} {
		if !strings.Contains(out, `"`+key+`"`) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	code, out, _ = runCLI(t, append([]string{"dora", "--service", "checkout", "--from", from, "--to", to, "--format", "csv", "--by", "day"}, conn...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.HasPrefix(lines[0], "from,to,service,team,environment,days,deployment_frequency_per_day") || len(lines) != 5 {
		t.Errorf("csv: %d %q", code, out)
	}
	code, out, _ = runCLI(t, append([]string{"dora", "--service", "checkout", "--from", from, "--to", to}, conn...)...)
	if code != 0 || !strings.Contains(out, "2.5h, 5.4h") {
		t.Errorf("table: %d %q", code, out)
	}

	// deploy record --repo walks the commits since the previous deploy's
	// head (c5): c6 and c7.
	c6 := g.commit("c6", base.Add(50*time.Hour), c5)
	c7 := g.commit("c7", base.Add(51*time.Hour), c6)
	code, out, errOut = runCLI(t, append([]string{"deploy", "record", "--service", "checkout", "--repo", dir, "--commit", c7.String()[:10],
		"--finished", base.Add(52 * time.Hour).Format(time.RFC3339), "--format", "json"}, conn...)...)
	var e struct {
		Commit  string   `json:"commit"`
		Commits []string `json:"commits"`
	}
	if err := json.Unmarshal([]byte(out), &e); code != 0 || err != nil || e.Commit != c7.String() || len(e.Commits) != 2 {
		t.Errorf("record --repo: %d %q %q", code, out, errOut)
	}
}

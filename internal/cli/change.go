package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/gate"
)

// changeCommands are the commands for change events, GitHub deploy webhooks
// and DORA metrics: deploy, change, changes and dora.
func changeCommands(g *globals) []*cobra.Command {
	return []*cobra.Command{newDeployCmd(g), newChangeCmd(g), newChangesCmd(g), newDORACmd(g)}
}

// SourceCLI is the source of events recorded with the CLI.
const sourceCLI = "cli"

// eventFlags are the flags of every command that records a change.
type eventFlags struct {
	service, env, version, commit, status, started, finished string
	actor, id, reason, source                                string
	commits, labels, links                                   []string
	verify                                                   bool
	githubDeployment                                         int64
}

func (f *eventFlags) register(cmd *cobra.Command, withStatus bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.service, "service", "", "service (required)")
	fl.StringVar(&f.env, "env", "production", "environment")
	fl.StringVar(&f.version, "version", "", "version released")
	fl.StringVar(&f.commit, "commit", "", "SHA of the deployed head")
	fl.StringSliceVar(&f.commits, "commits", nil, "SHAs the change ships (comma-separated)")
	if withStatus {
		fl.StringVar(&f.status, "status", "success", "success, failed, rolled_back or in_progress")
	}
	fl.StringVar(&f.started, "started", "", "start time (RFC 3339, Unix seconds, or a duration ago such as 10m)")
	fl.StringVar(&f.finished, "finished", "", "finish time (default now)")
	fl.StringVar(&f.actor, "actor", "", "who made the change (default $USER)")
	fl.StringVar(&f.id, "id", "", "external id: the same --id is recorded once (e.g. the CI run id)")
	fl.StringVar(&f.source, "source", sourceCLI, "source of the event; with --id, the idempotency key")
	fl.StringVar(&f.reason, "reason", "", "failure reason")
	fl.StringArrayVar(&f.labels, "label", nil, "label (repeatable), e.g. hotfix")
	fl.StringArrayVar(&f.links, "link", nil, "link as name=URL (repeatable), e.g. ci=https://…")
	fl.BoolVar(&f.verify, "verify", false, "ask for post-deploy verification")
	fl.Int64Var(&f.githubDeployment, "github-deployment-id", 0, "id of the GitHub deployment this is: verification posts a deployment status to it")
}

func (f *eventFlags) event(kind string, now time.Time) (client.ChangeEvent, error) {
	if f.service == "" {
		return client.ChangeEvent{}, tandem.FieldErrorf("--service", "required")
	}
	return f.build(kind, now)
}

// build is the event the flags give, without requiring --service.
func (f *eventFlags) build(kind string, now time.Time) (client.ChangeEvent, error) {
	e := client.ChangeEvent{Service: f.service, Environment: f.env, Kind: kind, Version: f.version, Commit: f.commit,
		Commits: f.commits, Status: f.status, Actor: f.actor, Source: f.source, ExternalID: f.id,
		Labels: f.labels, Verify: f.verify, FailureReason: f.reason, GitHubDeploymentID: f.githubDeployment}
	if e.Actor == "" {
		e.Actor = os.Getenv("USER")
	}
	for name, dst := range map[string]*time.Time{"--started": &e.StartedAt, "--finished": &e.FinishedAt} {
		v := map[string]string{"--started": f.started, "--finished": f.finished}[name]
		if v == "" {
			continue
		}
		t, err := tandem.ParseTime(v, now)
		if err != nil {
			return e, tandem.FieldErrorf(name, "%v", err)
		}
		*dst = t
	}
	for _, l := range f.links {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" || v == "" {
			return e, tandem.FieldErrorf("--link", "want name=URL, got %q", l)
		}
		if e.Links == nil {
			e.Links = map[string]string{}
		}
		e.Links[k] = v
	}
	if e.Status != change.StatusInProgress && e.FinishedAt.IsZero() {
		e.FinishedAt = now
	}
	return e, nil
}

func printEvent(w io.Writer, e client.ChangeEvent, format string, verbs ...string) error {
	if format == "json" {
		return writeJSON(w, e)
	}
	verb := "recorded"
	if e.Existing {
		verb = "already recorded"
	}
	if len(verbs) > 0 {
		verb = verbs[0]
	}
	fmt.Fprintf(w, "%s %s #%d: %s %s %s in %s", verb, e.Kind, e.ID, e.Service, e.Version, e.Status, e.Environment)
	if !e.FinishedAt.IsZero() {
		fmt.Fprintf(w, " at %s", e.FinishedAt.Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	return nil
}

func newDeployCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Record deploys (record, start, finish) and import them from git tags",
	}
	cmd.AddCommand(newDeployRecordCmd(g), newDeployStartCmd(g), newDeployFinishCmd(g), newImportTagsCmd(g))
	return cmd
}

func newDeployRecordCmd(g *globals) *cobra.Command {
	var (
		f       eventFlags
		repo    string
		format  string
		fromK8s string
	)
	cmd := &cobra.Command{
		Use:   "record",
		Short: "Record a finished deploy",
		Long: `record sends one deploy to the server (TANDEM_URL, TANDEM_TOKEN). With --id the
deploy is recorded once however often the command runs. With --repo PATH and
--commit, the commits between the previous deploy of the service and this one
are read from the git repository and sent with their times, for lead time.

With --from-k8s FILE (- for stdin) the deploy is read from a Deployment or an
Argo Rollout as ` + "`kubectl get -o json`" + ` prints it (a List records each object):
the service, version, environment, commit and cause come from its labels,
annotations and image (docs/changes.md); flags given as well override them.`,
		Example: `  tandem deploy record --service checkout --version 1.2.3 --commit $GITHUB_SHA --id $GITHUB_RUN_ID
  tandem deploy record --service checkout --version 1.2.4 --label hotfix --status failed --reason "smoke test"
  kubectl get deployment checkout -n production -o json | tandem deploy record --from-k8s -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if fromK8s != "" {
				return recordFromK8s(cmd, g, &f, fromK8s, format)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			e, err := f.event(change.KindDeploy, time.Now())
			if err != nil {
				return err
			}
			if repo != "" {
				if err := commitsFromRepo(cmd, c, repo, &e); err != nil {
					return err
				}
			}
			out, err := c.RecordChange(cmd.Context(), e)
			if err != nil {
				return err
			}
			return printEvent(g.stdout, out, format)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&repo, "repo", "", "git repository to read the deploy's commits from (with --commit)")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.Flags().StringVar(&fromK8s, "from-k8s", "", "read the deploy from `kubectl get -o json` output of a Deployment or Rollout (FILE, or - for stdin)")
	return cmd
}

// maxK8sInput bounds what --from-k8s reads.
const maxK8sInput = 32 << 20

// recordFromK8s records the deploys of a Deployment or Rollout's JSON; the
// flags given override what the object says.
func recordFromK8s(cmd *cobra.Command, g *globals, f *eventFlags, path, format string) error {
	if cmd.Flags().Changed("repo") {
		return tandem.FieldErrorf("--repo", "not with --from-k8s")
	}
	var rd io.Reader = g.stdin
	if path != "-" {
		fh, err := os.Open(path)
		if err != nil {
			return tandem.FieldErrorf("--from-k8s", "%v", err)
		}
		defer fh.Close()
		rd = fh
	}
	data, err := io.ReadAll(io.LimitReader(rd, maxK8sInput+1))
	if err != nil {
		return tandem.FieldErrorf("--from-k8s", "%v", err)
	}
	if len(data) > maxK8sInput {
		return tandem.FieldErrorf("--from-k8s", "larger than %d MiB", maxK8sInput>>20)
	}
	events, err := change.ParseKubernetes(data)
	if err != nil {
		return err
	}
	fe, err := f.build(change.KindDeploy, time.Now())
	if err != nil {
		return err
	}
	set := cmd.Flags().Changed
	if len(events) > 1 {
		for _, name := range []string{"service", "version", "commit", "id"} {
			if set(name) {
				return tandem.FieldErrorf("--"+name, "names one deploy; the List holds %d objects", len(events))
			}
		}
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	for _, e := range events {
		for name, pair := range map[string][2]*string{"service": {&e.Service, &fe.Service}, "env": {&e.Environment, &fe.Environment},
			"version": {&e.Version, &fe.Version}, "commit": {&e.Commit, &fe.Commit}, "actor": {&e.Actor, &fe.Actor},
			"reason": {&e.FailureReason, &fe.FailureReason}, "source": {&e.Source, &fe.Source}} {
			if set(name) {
				*pair[0] = *pair[1]
			}
		}
		if set("status") {
			e.Status = fe.Status
		}
		if set("id") {
			e.Source, e.ExternalID = fe.Source, fe.ExternalID
		}
		if e.Actor == "" {
			e.Actor = fe.Actor
		}
		e.Commits, e.Links, e.Verify, e.GitHubDeploymentID = fe.Commits, fe.Links, fe.Verify, fe.GitHubDeploymentID
		e.Labels = append(e.Labels, fe.Labels...)
		e.StartedAt = fe.StartedAt
		if e.Status != change.StatusInProgress {
			e.FinishedAt = fe.FinishedAt
			if e.FinishedAt.IsZero() {
				e.FinishedAt = time.Now()
			}
		}
		out, err := c.RecordChange(cmd.Context(), client.ChangeEvent(e))
		if err != nil {
			return err
		}
		if err := printEvent(g.stdout, out, format); err != nil {
			return err
		}
	}
	return nil
}

// commitsFromRepo fills e.Commits with the commits between the service's
// previous successful deploy and e.Commit, and records their times.
func commitsFromRepo(cmd *cobra.Command, c *client.Client, path string, e *client.ChangeEvent) error {
	if e.Commit == "" {
		return tandem.FieldErrorf("--commit", "required with --repo")
	}
	r, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return fmt.Errorf("open repository %s: %w", path, err)
	}
	prev, err := c.Changes(cmd.Context(), client.ChangeQuery{Services: []string{e.Service}, Kinds: []string{change.KindDeploy},
		Statuses: []string{change.StatusSuccess}, Environment: e.Environment, Limit: 1})
	if err != nil {
		return err
	}
	base := ""
	if len(prev) > 0 && prev[0].Commit != "" {
		base = prev[0].Commit
	}
	commits, err := change.CommitsBetween(r, e.Service, e.Commit, base)
	if err != nil && base != "" {
		// The previous head may not be in this clone; take the head alone.
		commits, err = change.CommitsBetween(r, e.Service, e.Commit, "")
	}
	if err != nil {
		return err
	}
	if len(commits) > 10000 {
		commits = commits[:10000]
	}
	for i := 0; i < len(commits); i += 4000 {
		if _, err := c.RecordCommits(cmd.Context(), clientCommits(commits[i:min(i+4000, len(commits))])); err != nil {
			return err
		}
	}
	e.Commit = commits[0].SHA
	for _, cm := range commits {
		e.Commits = append(e.Commits, cm.SHA)
	}
	return nil
}

func newDeployStartCmd(g *globals) *cobra.Command {
	var (
		f      eventFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Record that a deploy started (finish it with deploy finish and the same --id)",
		Example: `  tandem deploy start --service checkout --version 1.2.3 --id $CI_PIPELINE_ID
  tandem deploy finish --service checkout --id $CI_PIPELINE_ID --status success`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if f.id == "" {
				return tandem.FieldErrorf("--id", "required: deploy finish names the deploy by it")
			}
			f.status = change.StatusInProgress
			now := time.Now()
			e, err := f.event(change.KindDeploy, now)
			if err != nil {
				return err
			}
			if e.StartedAt.IsZero() {
				e.StartedAt = now
			}
			out, err := c.RecordChange(cmd.Context(), e)
			if err != nil {
				return err
			}
			return printEvent(g.stdout, out, format)
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func newDeployFinishCmd(g *globals) *cobra.Command {
	var (
		f        eventFlags
		changeID int64
		format   string
	)
	cmd := &cobra.Command{
		Use:   "finish",
		Short: "Record how a started deploy ended (by --service and --id, or by --change-id)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if f.status == change.StatusInProgress || f.status == "" {
				return tandem.FieldErrorf("--status", "want success, failed or rolled_back")
			}
			now := time.Now()
			if changeID > 0 {
				fin := now
				if f.finished != "" {
					if fin, err = tandem.ParseTime(f.finished, now); err != nil {
						return tandem.FieldErrorf("--finished", "%v", err)
					}
				}
				out, err := c.SetChangeStatus(cmd.Context(), changeID, f.status, f.reason, fin)
				if err != nil {
					return err
				}
				return printEvent(g.stdout, out, format, "finished")
			}
			if f.id == "" {
				return tandem.FieldErrorf("--id", "required (the --id given to deploy start), or --change-id")
			}
			e, err := f.event(change.KindDeploy, now)
			if err != nil {
				return err
			}
			out, err := c.RecordChange(cmd.Context(), e)
			if err != nil {
				return err
			}
			if out.Existing && out.Status != f.status {
				return fmt.Errorf("deploy %s (#%d) was already finished as %s", f.id, out.ID, out.Status)
			}
			return printEvent(g.stdout, out, format, "finished")
		},
	}
	f.register(cmd, true)
	cmd.Flags().Int64Var(&changeID, "change-id", 0, "tandem's id of the change to finish (instead of --service and --id)")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func newImportTagsCmd(g *globals) *cobra.Command {
	var (
		repo, service, pattern, env string
		noProgress                  bool
	)
	cmd := &cobra.Command{
		Use:   "import-tags",
		Short: "Record one deploy per git tag, with the commits between tags for lead time",
		Long: `import-tags reads the tags of a git repository that match --pattern as deploys
of --service: the deploy's time is a timestamp in the tag's name
(deploy-app-2025-06-03-141500), else the annotated tag's date, else its
commit's date. Each deploy ships the commits reachable from its tag and from
no earlier tag. Importing again records nothing new. On a terminal it shows
progress.`,
		Example: `  tandem deploy import-tags --repo . --service checkout --pattern 'deploy-*'`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if service == "" {
				return tandem.FieldErrorf("--service", "required")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			r, err := git.PlainOpenWithOptions(repo, &git.PlainOpenOptions{DetectDotGit: true})
			if err != nil {
				return fmt.Errorf("open repository %s: %w", repo, err)
			}
			progress := func(change.ImportProgress) {}
			if f, ok := g.stderr.(*os.File); ok && !noProgress && term.IsTerminal(int(f.Fd())) {
				last := time.Time{}
				progress = func(p change.ImportProgress) {
					if !p.Done && time.Since(last) < 100*time.Millisecond {
						return
					}
					last = time.Now()
					fmt.Fprintf(f, "\rreading tags %d/%d, commits %d", p.Tags, p.TotalTags, p.Commits)
					if p.Done {
						fmt.Fprintln(f)
					}
				}
			}
			res, err := change.ImportTags(r, change.TagImport{Service: service, Environment: env, Pattern: pattern, Progress: progress})
			if err != nil {
				return err
			}
			if len(res.Deploys) == 0 {
				return noTagMatches(r, repo, pattern)
			}
			ctx := cmd.Context()
			newCommits := 0
			for i := 0; i < len(res.Commits); i += 4000 {
				n, err := c.RecordCommits(ctx, clientCommits(res.Commits[i:min(i+4000, len(res.Commits))]))
				if err != nil {
					return err
				}
				newCommits += n
			}
			created, existing := 0, 0
			var batch []client.ChangeEvent
			shas := 0
			flush := func() error {
				if len(batch) == 0 {
					return nil
				}
				out, err := c.RecordChanges(ctx, batch)
				if err != nil {
					return err
				}
				created += out.Created
				existing += out.Count - out.Created
				batch, shas = batch[:0], 0
				return nil
			}
			for _, d := range res.Deploys {
				if len(d.Commits) > 10000 {
					// Too many to list: the commits' times are recorded, and
					// DORA attributes them by the head's time.
					d.Commits = nil
				}
				if len(batch) >= 500 || shas+len(d.Commits) > 15000 {
					if err := flush(); err != nil {
						return err
					}
				}
				batch = append(batch, client.ChangeEvent(d))
				shas += len(d.Commits)
			}
			if err := flush(); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s, %s read: %s (%d already recorded), %s\n",
				plural(len(res.Deploys), "tag", "tags"), plural(len(res.Commits), "commit", "commits"),
				plural(created, "new deploy", "new deploys"), existing, plural(newCommits, "new commit", "new commits"))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&repo, "repo", ".", "path of the git repository")
	fl.StringVar(&service, "service", "", "service the tags deploy (required)")
	fl.StringVar(&pattern, "pattern", "deploy-*", "tags to import (glob)")
	fl.StringVar(&env, "env", "production", "environment")
	fl.BoolVar(&noProgress, "no-progress", false, "do not show progress even on a terminal")
	return cmd
}

func newChangeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "change", Short: "Record config changes, migrations, feature flags and chaos experiments"}
	var (
		f      eventFlags
		kind   string
		format string
	)
	rec := &cobra.Command{
		Use:     "record",
		Short:   "Record a change of any kind",
		Example: `  tandem change record --kind config --service checkout --version "timeout 2s->5s"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			e, err := f.event(kind, time.Now())
			if err != nil {
				return err
			}
			out, err := c.RecordChange(cmd.Context(), e)
			if err != nil {
				return err
			}
			return printEvent(g.stdout, out, format)
		},
	}
	f.register(rec, true)
	rec.Flags().StringVar(&kind, "kind", "", "deploy, rollback, config, migration, flag, chaos, backup or canary (required)")
	rec.Flags().StringVar(&format, "format", "text", "text or json")
	_ = rec.MarkFlagRequired("kind")
	cmd.AddCommand(rec)
	return cmd
}

func newChangesCmd(g *globals) *cobra.Command {
	var (
		services, kinds           []string
		env, since, until, around string
		window                    string
		limit                     int
		format                    string
	)
	cmd := &cobra.Command{
		Use:   "changes",
		Short: "List changes, or the changes around a moment (the suspects of an incident)",
		Example: `  tandem changes --service checkout --since 7d
  tandem changes --service checkout --around 2026-11-25T14:05:00Z --window 2h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			now := time.Now()
			q := client.ChangeQuery{Services: services, Kinds: kinds, Environment: env, Limit: limit}
			for name, p := range map[string]struct {
				v   string
				dst *time.Time
			}{"--since": {since, &q.Since}, "--until": {until, &q.Until}, "--around": {around, &q.Around}} {
				if p.v == "" {
					continue
				}
				t, err := tandem.ParseTime(p.v, now)
				if err != nil {
					return tandem.FieldErrorf(name, "%v", err)
				}
				*p.dst = t
			}
			if window != "" {
				if q.Window, err = tandem.ParseDuration(window); err != nil {
					return tandem.FieldErrorf("--window", "%v", err)
				}
			}
			evs, err := c.Changes(cmd.Context(), q)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, evs)
			}
			verdicts := changeVerdicts(cmd.Context(), g, c, evs)
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tAT\tSERVICE\tENV\tKIND\tVERSION\tSTATUS\tVERDICT\tACTOR\tLABELS")
			for _, e := range evs {
				at := e.At().Format(time.RFC3339)
				if !q.Around.IsZero() {
					at += " (" + signedDuration(e.At().Sub(q.Around)) + ")"
				}
				v := verdicts[e.ID]
				if v == "" {
					v = "–"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, at, e.Service, e.Environment, e.Kind, e.Version, e.Status, v, e.Actor, strings.Join(e.Labels, ","))
			}
			return tw.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&services, "service", nil, "services (comma-separated)")
	fl.StringSliceVar(&kinds, "kind", nil, "kinds (comma-separated)")
	fl.StringVar(&env, "env", "", "environment")
	fl.StringVar(&since, "since", "", "from this time (RFC 3339 or a duration ago such as 7d)")
	fl.StringVar(&until, "until", "", "until this time")
	fl.StringVar(&around, "around", "", "list the changes around this time, nearest first")
	fl.StringVar(&window, "window", "2h", "with --around: how far either side")
	fl.IntVar(&limit, "limit", 100, "at most this many")
	fl.StringVar(&format, "format", "table", "table or json")
	return cmd
}

func signedDuration(d time.Duration) string {
	if d < 0 {
		return "-" + (-d).Round(time.Second).String()
	}
	return "+" + d.Round(time.Second).String()
}

func newDORACmd(g *globals) *cobra.Command {
	var (
		q      client.DORAQuery
		format string
	)
	cmd := &cobra.Command{
		Use:   "dora",
		Short: "Show the DORA metrics with their performance tiers",
		Long: `dora shows deployment frequency, lead time for changes, change failure rate,
failed deployment recovery time and rework rate, each with its DORA 2024 tier
and the counts it was computed from, for the org, a service or a team.
docs/dora.md defines them.`,
		Example: `  tandem dora --since 90d
  tandem dora --service checkout --by week --format csv
  tandem dora --team payments --from 2026-01-01 --to 2026-04-01 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			r, err := c.DORA(cmd.Context(), q)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return writeJSON(g.stdout, r)
			case "csv":
				return doraCSV(g.stdout, r)
			case "table", "":
				return doraTable(g.stdout, r)
			}
			return tandem.FieldErrorf("--format", "want table, json or csv, got %q", format)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&q.Services, "service", nil, "services (comma-separated); default all")
	fl.StringVar(&q.Team, "team", "", "the services of this team")
	fl.StringVar(&q.Environment, "env", "production", "environment")
	fl.StringVar(&q.Since, "since", "", "from this long ago (default 90d)")
	fl.StringVar(&q.From, "from", "", "from this time or date")
	fl.StringVar(&q.To, "to", "", "to this time or date (default now)")
	fl.StringVar(&q.By, "by", "", "break down by day, week or month")
	fl.StringVar(&format, "format", "table", "table, json or csv")
	return cmd
}

func human(sec *float64) string {
	if sec == nil {
		return "-"
	}
	d := time.Duration(*sec * float64(time.Second))
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%.1fh", d.Hours())
	case d >= time.Minute:
		return fmt.Sprintf("%.0fm", d.Minutes())
	}
	return fmt.Sprintf("%.0fs", d.Seconds())
}

func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *v*100)
}

func doraTable(w io.Writer, r client.DORAReport) error {
	scope := "org"
	switch {
	case r.Service != "":
		scope = "service " + r.Service
	case r.Team != "":
		scope = "team " + r.Team
	}
	fmt.Fprintf(w, "DORA metrics, %s, %s, %s to %s (%.0f days)\n\n", scope, r.Environment,
		r.From.Format("2006-01-02 15:04"), r.To.Format("2006-01-02 15:04"), math.Round(r.Days))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tVALUE\tTIER\tFROM")
	deploys := plural(r.Deploys, "deploy", "deploys")
	fmt.Fprintf(tw, "deployment frequency\t%.2f/day (%.1f/week)\t%s\t%d successful of %s\n",
		r.DeploymentFrequencyPerDay, r.DeploymentFrequencyPerWeek, r.DeploymentFrequencyTier, r.SuccessfulDeploys, deploys)
	fmt.Fprintf(tw, "lead time (median, p90)\t%s, %s\t%s\t%s\n", human(r.LeadTimeMedianSeconds), human(r.LeadTimeP90Seconds), r.LeadTimeTier, plural(r.LeadTimeCommits, "commit", "commits"))
	fmt.Fprintf(tw, "change failure rate\t%s\t%s\t%d of %s\n", pct(r.ChangeFailureRate), r.ChangeFailureRateTier, r.FailedDeploys, deploys)
	fmt.Fprintf(tw, "recovery time (median, p90)\t%s, %s\t%s\t%s, %d open\n", human(r.RecoveryTimeMedianSeconds), human(r.RecoveryTimeP90Seconds), r.RecoveryTimeTier, plural(r.Recoveries, "recovery", "recoveries"), r.OpenFailures)
	fmt.Fprintf(tw, "rework rate\t%s\t(no tiers)\t%d of %s\n", pct(r.ReworkRate), r.ReworkDeploys, deploys)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Periods) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PERIOD\tDEPLOYS/DAY\tLEAD MEDIAN\tCFR\tRECOVERY MEDIAN\tREWORK\tDEPLOYS")
	for _, p := range r.Periods {
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%s\t%s\t%d\n", p.From.Format("2006-01-02"), p.DeploymentFrequencyPerDay,
			human(p.LeadTimeMedianSeconds), pct(p.ChangeFailureRate), human(p.RecoveryTimeMedianSeconds), pct(p.ReworkRate), p.Deploys)
	}
	return tw.Flush()
}

// doraCSV writes one row per period (or one for the whole report), with
// the JSON field names as the header.
func doraCSV(w io.Writer, r client.DORAReport) error {
	cw := csv.NewWriter(w)
	header := []string{"from", "to", "service", "team", "environment", "days",
		"deployment_frequency_per_day", "deployment_frequency_tier", "deploys", "successful_deploys",
		"lead_time_median_seconds", "lead_time_p90_seconds", "lead_time_tier", "lead_time_commits",
		"change_failure_rate", "change_failure_rate_tier", "failed_deploys",
		"recovery_time_median_seconds", "recovery_time_p90_seconds", "recovery_time_tier", "recoveries", "open_failures",
		"rework_rate", "rework_deploys"}
	if err := cw.Write(header); err != nil {
		return err
	}
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	rows := r.Periods
	if len(rows) == 0 {
		rows = []client.DORAReport{r}
	}
	for _, p := range rows {
		f := strconv.FormatFloat
		if err := cw.Write([]string{p.From.Format(time.RFC3339), p.To.Format(time.RFC3339), p.Service, p.Team, p.Environment, f(p.Days, 'f', -1, 64),
			f(p.DeploymentFrequencyPerDay, 'f', -1, 64), string(p.DeploymentFrequencyTier), strconv.Itoa(p.Deploys), strconv.Itoa(p.SuccessfulDeploys),
			num(p.LeadTimeMedianSeconds), num(p.LeadTimeP90Seconds), string(p.LeadTimeTier), strconv.Itoa(p.LeadTimeCommits),
			num(p.ChangeFailureRate), string(p.ChangeFailureRateTier), strconv.Itoa(p.FailedDeploys),
			num(p.RecoveryTimeMedianSeconds), num(p.RecoveryTimeP90Seconds), string(p.RecoveryTimeTier), strconv.Itoa(p.Recoveries), strconv.Itoa(p.OpenFailures),
			num(p.ReworkRate), strconv.Itoa(p.ReworkDeploys)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// noTagMatches explains an import that found no tag to read: which pattern
// matched nothing, and which tags the repository does have.
func noTagMatches(r *git.Repository, repo, pattern string) error {
	var names []string
	if iter, err := r.Tags(); err == nil {
		_ = iter.ForEach(func(ref *plumbing.Reference) error {
			names = append(names, ref.Name().Short())
			return nil
		})
	}
	if len(names) == 0 {
		return fmt.Errorf("repository %s has no tags; nothing recorded", repo)
	}
	sort.Strings(names)
	shown := names[max(0, len(names)-5):]
	return tandem.FieldErrorf("--pattern", "no tag of %s matches %q; nothing recorded (it has %s, such as %s)",
		repo, pattern, plural(len(names), "tag", "tags"), strings.Join(shown, ", "))
}

// changeVerdicts finds the verdict beside each change: its latest
// verification ("verify pass"), and a chaos run's SLO verdict ("chaos
// held"). A source that cannot be read is said once on stderr and its
// verdicts show as unknown.
func changeVerdicts(ctx context.Context, g *globals, c *client.Client, evs []client.ChangeEvent) map[int64]string {
	out := map[int64]string{}
	if len(evs) == 0 {
		return out
	}
	oldest := evs[0].At()
	for _, e := range evs {
		if e.At().Before(oldest) {
			oldest = e.At()
		}
	}
	add := func(id int64, v string) {
		if out[id] == "" {
			out[id] = v
		} else {
			out[id] += ", " + v
		}
	}
	unknown := func(what string, err error) {
		fmt.Fprintf(g.stderr, "warning: %s verdicts unknown: %s\n", what, errorText(err))
		for _, e := range evs {
			if what == "verification" || e.Kind == change.KindChaos {
				add(e.ID, what+" unknown")
			}
		}
	}
	rs, err := c.Gates(ctx, client.GateQuery{Kind: gate.KindVerify, Since: oldest.Add(-time.Minute), Limit: 1000})
	if err != nil {
		unknown("verification", err)
	} else {
		seen := map[int64]bool{}
		for _, r := range rs { // newest first
			if r.ChangeID != 0 && !seen[r.ChangeID] {
				seen[r.ChangeID] = true
				add(r.ChangeID, "verify "+r.Verdict)
			}
		}
	}
	hasChaos := false
	for _, e := range evs {
		hasChaos = hasChaos || e.Kind == change.KindChaos
	}
	if !hasChaos {
		return out
	}
	runs, err := c.ChaosRuns(ctx, "", "", 1000)
	if err != nil {
		unknown("chaos", err)
		return out
	}
	for _, r := range runs {
		if r.Verdict != nil {
			add(r.ID, "chaos "+*r.Verdict)
		}
	}
	return out
}

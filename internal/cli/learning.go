package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/okr"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/toil"
)

// learningCommands are the commands for postmortems, action items, toil and
// reliability OKRs.
func learningCommands(g *globals) []*cobra.Command {
	return []*cobra.Command{newPostmortemCmd(g), newActionsCmd(g), newToilCmd(g), newOKRCmd(g)}
}

func learningParseID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, tandem.Errorf(tandem.EInvalid, "%s: want a positive number, got %q", what, s)
	}
	return id, nil
}

func newPostmortemCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "postmortem", Aliases: []string{"postmortems", "pm"}, Short: "Postmortems written from incidents: list, show, export, edit, publish"}
	var status, team, format string
	list := &cobra.Command{
		Use: "list", Short: "List postmortems, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			pms, err := c.Postmortems(cmd.Context(), status, team)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, pms)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tINCIDENT\tSTATUS\tTEAM\tCREATED\tTITLE")
			for _, p := range pms {
				fmt.Fprintf(tw, "%d\t#%d\t%s\t%s\t%s\t%s\n", p.ID, p.IncidentID, p.Status, p.Team, p.CreatedAt.Format("2006-01-02"), p.Title)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&status, "status", "", "draft, in_review or published")
	list.Flags().StringVar(&team, "team", "", "only this team's")
	list.Flags().StringVar(&format, "format", "table", "table or json")

	show := &cobra.Command{
		Use: "show ID", Short: "Show a postmortem: its state, action items and Markdown", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := learningParseID(args[0], "postmortem id")
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			p, err := c.Postmortem(cmd.Context(), id)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Postmortem %d for incident #%d: %s\nstatus %s · team %s · version %d · template %s\n", p.ID, p.IncidentID, p.Title, p.Status, p.Team, p.Version, p.Template)
			if p.GitHubIssueURL != "" {
				fmt.Fprintf(g.stdout, "GitHub issue: %s\n", p.GitHubIssueURL)
			}
			if p.FilePath != "" {
				fmt.Fprintf(g.stdout, "file: %s\n", p.FilePath)
			}
			if p.RenderError != "" {
				fmt.Fprintf(g.stdout, "template error: %s\n", p.RenderError)
			}
			if len(p.ActionItems) > 0 {
				fmt.Fprintln(g.stdout, "\nAction items:")
				writeItems(g.stdout, p.ActionItems)
			}
			fmt.Fprintf(g.stdout, "\n%s", p.Markdown)
			return nil
		},
	}
	var exportFormat, out string
	export := &cobra.Command{
		Use: "export ID", Short: "Write a postmortem as Markdown (default) or JSON", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := learningParseID(args[0], "postmortem id")
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			w := g.stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			switch exportFormat {
			case "markdown", "md":
				md, err := c.PostmortemMarkdown(cmd.Context(), id)
				if err != nil {
					return err
				}
				_, err = io.WriteString(w, md)
				return err
			case "json":
				p, err := c.Postmortem(cmd.Context(), id)
				if err != nil {
					return err
				}
				return writeJSON(w, p)
			}
			return tandem.Errorf(tandem.EInvalid, "--format: want markdown or json, got %q", exportFormat)
		},
	}
	export.Flags().StringVar(&exportFormat, "format", "markdown", "markdown or json")
	export.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")

	generate := &cobra.Command{
		Use: "generate INCIDENT_ID", Short: "Write an incident's postmortem now (closed sev1 incidents get one automatically)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := learningParseID(args[0], "incident id")
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			p, err := c.GeneratePostmortem(cmd.Context(), id)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "postmortem %d for incident #%d (%s)\n", p.ID, p.IncidentID, p.Status)
			return nil
		},
	}
	var mdFile, newStatus string
	update := &cobra.Command{
		Use: "update ID [--file F.md] [--status draft|in_review|published]", Short: "Replace a postmortem's Markdown and/or change its status (published publishes it)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := learningParseID(args[0], "postmortem id")
			if err != nil {
				return err
			}
			var u client.PostmortemUpdate
			if mdFile != "" {
				var b []byte
				if mdFile == "-" {
					b, err = io.ReadAll(g.stdin)
				} else {
					b, err = os.ReadFile(mdFile)
				}
				if err != nil {
					return err
				}
				md := string(b)
				u.Markdown = &md
			}
			if newStatus != "" {
				u.Status = &newStatus
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			p, err := c.UpdatePostmortem(cmd.Context(), id, u)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "postmortem %d: %s, version %d, %d action items\n", p.ID, p.Status, p.Version, len(p.ActionItems))
			return nil
		},
	}
	update.Flags().StringVarP(&mdFile, "file", "f", "", "Markdown file to store (- for standard input)")
	update.Flags().StringVar(&newStatus, "status", "", "draft, in_review or published")
	cmd.AddCommand(list, show, export, generate, update)
	return cmd
}

func writeItems(w io.Writer, items []client.ActionItem) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tOWNER\tDUE\tPOSTMORTEM\tTITLE")
	for _, a := range items {
		due := "-"
		if a.Due != nil {
			due = a.Due.Format("2006-01-02")
			if a.Overdue {
				due += " OVERDUE"
			}
		}
		pm := "-"
		if a.PostmortemID != 0 {
			pm = strconv.FormatInt(a.PostmortemID, 10)
		}
		owner := a.Owner
		if owner == "" {
			owner = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Status, owner, due, pm, a.Title)
	}
	tw.Flush()
}

func newActionsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "actions", Aliases: []string{"action"}, Short: "Action items from postmortems and added by hand"}
	var f client.ActionFilter
	var format string
	list := &cobra.Command{
		Use: "list", Short: "List action items (overdue ones are marked)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			items, err := c.ActionItems(cmd.Context(), f)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, items)
			}
			writeItems(g.stdout, items)
			return nil
		},
	}
	list.Flags().BoolVar(&f.Overdue, "overdue", false, "only open items past their due date")
	list.Flags().StringVar(&f.Owner, "owner", "", "only this person's")
	list.Flags().StringVar(&f.Status, "status", "", "open or done")
	list.Flags().StringVar(&format, "format", "table", "table or json")

	var n client.NewActionItem
	add := &cobra.Command{
		Use: "add TITLE", Short: "Add an action item by hand", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n.Title = args[0]
			c, err := g.client()
			if err != nil {
				return err
			}
			a, err := c.AddActionItem(cmd.Context(), n)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "action item %d added\n", a.ID)
			return nil
		},
	}
	add.Flags().StringVar(&n.Owner, "owner", "", "who does it")
	add.Flags().StringVar(&n.Due, "due", "", "due date YYYY-MM-DD")
	add.Flags().StringVar(&n.Link, "link", "", "a ticket or pull request")
	add.Flags().Int64Var(&n.PostmortemID, "postmortem", 0, "the postmortem it follows from")
	add.Flags().Int64Var(&n.IncidentID, "incident", 0, "the incident it follows from")
	setStatus := func(use, short, status string) *cobra.Command {
		return &cobra.Command{
			Use: use + " ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				id, err := learningParseID(args[0], "action item id")
				if err != nil {
					return err
				}
				c, err := g.client()
				if err != nil {
					return err
				}
				a, err := c.UpdateActionItem(cmd.Context(), id, client.ActionItemUpdate{Status: &status})
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "action item %d is %s\n", a.ID, a.Status)
				return nil
			},
		}
	}
	cmd.AddCommand(list, add, setStatus("done", "Mark an action item done", postmortem.ItemDone), setStatus("reopen", "Reopen an action item", postmortem.ItemOpen))
	return cmd
}

func newToilCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "toil", Short: "Log toil, import it from tickets, report on it"}
	var in client.ToilInput
	var at string
	logCmd := &cobra.Command{
		Use: "log --minutes N --category C [--service S] [--who P] [--note TEXT]", Short: "Log a piece of toil", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if at != "" {
				t, err := tandem.ParseTime(at, time.Now())
				if err != nil {
					return tandem.FieldErrorf("--at", "%v", err)
				}
				in.At = &t
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			e, err := c.LogToil(cmd.Context(), in)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "logged %d min of %s (entry %d)\n", e.Minutes, e.Category, e.ID)
			return nil
		},
	}
	logCmd.Flags().IntVar(&in.Minutes, "minutes", 0, "time spent, in minutes")
	logCmd.Flags().StringVar(&in.Category, "category", "", "what kind of toil: restart, data-restore, cert-renewal…")
	logCmd.Flags().StringVar(&in.Service, "service", "", "the service it was for")
	logCmd.Flags().StringVar(&in.Person, "who", "", "who did it")
	logCmd.Flags().StringVar(&in.Team, "team", "", "the team (default: the service's owner, else the person's team)")
	logCmd.Flags().StringVar(&in.Note, "note", "", "what was done")
	logCmd.Flags().StringVar(&at, "at", "", "when (default now): RFC 3339, a date, or a duration ago such as 2h")
	_ = logCmd.MarkFlagRequired("minutes")
	_ = logCmd.MarkFlagRequired("category")

	imp := &cobra.Command{Use: "import", Short: "Import tickets labelled toil"}
	var co client.CSVImportOptions
	csvCmd := &cobra.Command{
		Use: "csv FILE", Short: "Import a Jira or Linear CSV export (every bad row is reported; none imported unless --skip-bad)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = g.stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			rep, err := c.ImportToilCSV(cmd.Context(), r, co)
			if err != nil {
				return err
			}
			return g.importOutcome(rep)
		},
	}
	csvCmd.Flags().StringVar(&co.Format, "format", "", "jira, linear or tandem (default: detected from the header)")
	csvCmd.Flags().StringVar(&co.Label, "label", "toil", "the label that marks toil tickets")
	csvCmd.Flags().IntVar(&co.MinutesPerPoint, "minutes-per-point", 60, "minutes per Linear estimate point, for tickets without a time label")
	csvCmd.Flags().BoolVar(&co.SkipBad, "skip-bad", false, "import the good rows even when some are bad")
	var repo, apiURL, label string
	var skipBad bool
	ghCmd := &cobra.Command{
		Use: "github --repo OWNER/NAME", Short: "Import GitHub issues labelled toil (token from GITHUB_TOKEN)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			gh := &toil.GitHub{BaseURL: apiURL, Token: os.Getenv("GITHUB_TOKEN")}
			res, err := gh.FetchIssues(cmd.Context(), repo, toil.ImportOptions{Label: label})
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			rep, err := c.ImportToilEntries(cmd.Context(), clientToilImport(res), skipBad)
			if err != nil {
				return err
			}
			return g.importOutcome(rep)
		},
	}
	ghCmd.Flags().StringVar(&repo, "repo", "", "the repository, owner/name")
	ghCmd.Flags().StringVar(&apiURL, "github-url", "https://api.github.com", "GitHub API root (https://HOST/api/v3 for GitHub Enterprise)")
	ghCmd.Flags().StringVar(&label, "label", "toil", "the label that marks toil issues")
	ghCmd.Flags().BoolVar(&skipBad, "skip-bad", false, "import the good issues even when some are bad")
	_ = ghCmd.MarkFlagRequired("repo")
	imp.AddCommand(csvCmd, ghCmd)

	var month, since, by, team, format string
	report := &cobra.Command{
		Use: "report [--month 2026-11 | --since 90d] [--by category|team|service|person]", Short: "Toil hours, trend against the previous period, share of on-call time", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" && format != "csv" {
				return tandem.Errorf(tandem.EInvalid, "--format: want table, json or csv, got %q", format)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			r, err := c.ToilReport(cmd.Context(), month, since, by, team)
			if err != nil {
				return err
			}
			return toil.WriteReport(g.stdout, toilReport(r), format)
		},
	}
	report.Flags().StringVar(&month, "month", "", "a calendar month, YYYY-MM")
	report.Flags().StringVar(&since, "since", "", "a period ending now, such as 30d or 90d (default 30d)")
	report.Flags().StringVar(&by, "by", "", "group by category, team, service or person")
	report.Flags().StringVar(&team, "team", "", "only this team's toil")
	report.Flags().StringVar(&format, "format", "table", "table, json or csv")

	var goalsFormat string
	goals := &cobra.Command{
		Use: "goals", Short: "Progress of the toil goals in config", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			gs, err := c.ToilGoals(cmd.Context())
			if err != nil {
				return err
			}
			if goalsFormat == "json" {
				return writeJSON(g.stdout, gs)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GOAL\tBASELINE h\tTARGET h\tNOW h\tPROGRESS\tEXPECTED\tSTATE\tDEADLINE")
			for _, s := range gs {
				fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.0f%%\t%.0f%%\t%s\t%s\n", s.Goal.Name, s.BaselineHours, s.TargetHours, s.CurrentHours,
					s.Progress*100, s.Expected*100, s.State, s.Goal.Deadline.Format("2006-01-02"))
			}
			return tw.Flush()
		},
	}
	goals.Flags().StringVar(&goalsFormat, "format", "table", "table or json")
	cmd.AddCommand(logCmd, imp, report, goals)
	return cmd
}

// importOutcome prints an import's result; bad rows without --skip-bad
// exit 1 after listing every one.
func (g *globals) importOutcome(rep client.ToilImportReport) error {
	for _, b := range rep.Bad {
		fmt.Fprintln(g.stderr, "bad:", toil.RowError(b).String())
	}
	if !rep.Imported {
		fmt.Fprintf(g.stderr, "%d bad rows; nothing imported (fix them, or pass --skip-bad to import the rest)\n", len(rep.Bad))
		return &ExitError{Code: 1}
	}
	fmt.Fprintf(g.stdout, "imported %d new entries (%d already recorded, %d tickets not labelled toil, %d bad rows skipped)\n",
		rep.Created, rep.Existing, rep.Skipped, len(rep.Bad))
	return nil
}

func newOKRCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "okr", Aliases: []string{"okrs"}, Short: "Reliability objectives and key results"}
	var quarter, team, format string
	status := &cobra.Command{
		Use: "status [--quarter 2026Q4] [--team T]", Short: "Each key result's value, target, score (0..1) and trend", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			objs, err := c.OKRStatus(cmd.Context(), quarter, team)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, objs)
			}
			if len(objs) == 0 {
				fmt.Fprintln(g.stdout, "no objectives for this quarter")
				return nil
			}
			for i, o := range objs {
				if i > 0 {
					fmt.Fprintln(g.stdout)
				}
				owner := o.Team
				if owner == "" {
					owner = "shared"
				}
				score := "no score yet (no key result could be measured)"
				if o.Score != nil {
					score = fmt.Sprintf("score %.2f (%d of %d key results measured)", *o.Score, o.Scored, len(o.KeyResults))
				}
				fmt.Fprintf(g.stdout, "%s  %s (%s, %s)  %s\n", o.Name, o.Title, owner, o.Quarter, score)
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  KEY RESULT\tKIND\tCURRENT\tTARGET\tSCORE\tTREND\tSTATE")
				for _, k := range o.KeyResults {
					trend := k.Trend
					if trend == "" {
						trend = "-"
					}
					score := "-"
					if k.Score != nil {
						score = fmt.Sprintf("%.2f", *k.Score)
					}
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Title, k.Kind, fmtValue(okr.Kind(k.Kind), k.Current), k.Target.Text, score, trend, krState(k))
				}
				tw.Flush()
			}
			return nil
		},
	}
	status.Flags().StringVar(&quarter, "quarter", "", "the quarter, YYYYQn (default: the current one)")
	status.Flags().StringVar(&team, "team", "", "a team's objectives and the shared ones")
	status.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.AddCommand(status)
	return cmd
}

func fmtValue(k okr.Kind, v *float64) string {
	if v == nil {
		return "-"
	}
	switch k.Unit() {
	case "ratio":
		return strconv.FormatFloat(*v*100, 'f', 2, 64) + "%"
	case "minutes":
		return strconv.FormatFloat(*v, 'f', 1, 64) + "m"
	case "per_day":
		return strconv.FormatFloat(*v, 'f', 2, 64) + "/day"
	case "hours":
		return strconv.FormatFloat(*v, 'f', 1, 64) + "h"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

// krState says in words where a key result stands, as the dashboard does:
// met or not met yet when it has a score, else why it has none.
func krState(k client.KeyResultStatus) string {
	switch k.Status {
	case "ok":
		if k.Met {
			return "met"
		}
		return "not met yet"
	case "no_data":
		return "no data yet"
	case "no_baseline":
		return "no baseline (no previous quarter)"
	case "unavailable":
		return "unavailable (no source for this kind)"
	}
	return k.Status
}

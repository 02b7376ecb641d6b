package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
)

// incidentCommands are the commands for incidents, inbound alerts,
// notifications and the job engine: incident, maintenance, heartbeat, jobs.
func incidentCommands(g *globals) []*cobra.Command {
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "Open, list, show, acknowledge, resolve and close incidents; add notes",
	}
	cmd.AddCommand(newIncidentOpenCmd(g), newIncidentListCmd(g), newIncidentShowCmd(g),
		newIncidentActionCmd(g, "ack", "Acknowledge an incident: escalation stops"),
		newIncidentActionCmd(g, "resolve", "Resolve an incident: every pending page stops"),
		newIncidentActionCmd(g, "close", "Close a resolved incident (starts its postmortem)"),
		newIncidentNoteCmd(g), newIncidentUpdateCmd(g), newIncidentReassignCmd(g), newIncidentRespondersCmd(g))
	return []*cobra.Command{cmd, newMaintenanceCmd(g), newHeartbeatCmd(g), newJobsCmd(g)}
}

func parseIncidentID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, tandem.FieldErrorf("id", "want an incident number such as 42, got %q", s)
	}
	return id, nil
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func printIncident(w io.Writer, inc client.Incident) {
	fmt.Fprintf(w, "#%d [%s] %s\n", inc.ID, inc.Severity, inc.Title)
	fmt.Fprintf(w, "  status:    %s\n", inc.Status)
	fmt.Fprintf(w, "  services:  %s\n", strings.Join(inc.Services, ", "))
	if inc.Commander != "" {
		fmt.Fprintf(w, "  commander: %s\n", inc.Commander)
	}
	fmt.Fprintf(w, "  assigned:  %s\n", assignedTo(inc))
	for _, r := range inc.Responders {
		fmt.Fprintf(w, "  responder: %s (asked by %s at %s)\n", r.Person, r.RequestedBy, fmtTime(&r.RequestedAt))
	}
	fmt.Fprintf(w, "  started:   %s   detected: %s\n", fmtTime(&inc.StartedAt), fmtTime(&inc.DetectedAt))
	fmt.Fprintf(w, "  acked:     %s   resolved: %s   closed: %s\n", fmtTime(inc.AcknowledgedAt), fmtTime(inc.ResolvedAt), fmtTime(inc.ClosedAt))
	if inc.Summary != "" {
		fmt.Fprintf(w, "  summary:   %s\n", inc.Summary)
	}
	for _, s := range inc.Suspects {
		fmt.Fprintf(w, "  suspect:   %s %s of %s (%s) at %s\n", s.Kind, s.Version, s.Service, s.Status, fmtTime(&s.At))
	}
}

func newIncidentOpenCmd(g *globals) *cobra.Command {
	var (
		in       client.NewIncident
		sev      string
		started  string
		services []string
	)
	cmd := &cobra.Command{
		Use:     "open",
		Short:   "Open an incident and page its service's escalation policy",
		Example: `  tandem incident open --service checkout --sev 1 --title "Checkout returns 500s"`,
		Args:    cobra.NoArgs,
	}
	out := addOutput(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) (client.Incident, error) {
			in.Services, in.Severity = services, sev
			if started != "" {
				t, err := tandem.ParseTime(started, time.Now())
				if err != nil {
					return client.Incident{}, tandem.FieldErrorf("--started", "%v", err)
				}
				in.StartedAt = t
			}
			return c.OpenIncident(ctx, in)
		}, func(w io.Writer, inc client.Incident) error {
			fmt.Fprintf(w, "opened ")
			printIncident(w, inc)
			return nil
		})
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&services, "service", nil, "affected service (repeatable or comma-separated; required)")
	fl.StringVar(&sev, "sev", "", "severity: 1..4 or sev1..sev4 (required)")
	fl.StringVar(&in.Title, "title", "", "title (required)")
	fl.StringVar(&in.Summary, "summary", "", "what is happening")
	fl.StringVar(&in.Commander, "commander", "", "incident commander")
	fl.StringVar(&started, "started", "", "impact start (RFC 3339 or a duration ago such as 15m; default now)")
	return cmd
}

func newIncidentListCmd(g *globals) *cobra.Command {
	var (
		q            client.IncidentQuery
		since, until string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List incidents, most recent first",
		Example: "  tandem incident list --status open\n  tandem incident list --service checkout --since 30d --format json",
		Args:    cobra.NoArgs,
	}
	out := addOutput(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) ([]client.Incident, error) {
			now := time.Now()
			for name, p := range map[string]struct {
				v   string
				dst *time.Time
			}{"--since": {since, &q.Since}, "--until": {until, &q.Until}} {
				if p.v == "" {
					continue
				}
				t, err := tandem.ParseTime(p.v, now)
				if err != nil {
					return nil, tandem.FieldErrorf(name, "%v", err)
				}
				*p.dst = t
			}
			return c.Incidents(ctx, q)
		}, func(w io.Writer, list []client.Incident) error {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEV\tSTATUS\tSTARTED\tSERVICES\tTITLE")
			for _, inc := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", inc.ID, inc.Severity, inc.Status, fmtTime(&inc.StartedAt), strings.Join(inc.Services, ","), inc.Title)
			}
			return tw.Flush()
		})
	}
	fl := cmd.Flags()
	fl.StringVar(&q.Status, "status", "", "triggered, acknowledged, resolved, closed or open (comma-separated)")
	fl.StringVar(&q.Service, "service", "", "only this service")
	fl.StringVar(&q.Severity, "sev", "", "only this severity")
	fl.StringVar(&since, "since", "", "started at or after (RFC 3339 or a duration ago such as 30d)")
	fl.StringVar(&until, "until", "", "started before")
	fl.IntVar(&q.Limit, "limit", 100, "at most this many")
	return cmd
}

// incidentWithTimeline is `incident show`'s JSON: the incident and its
// timeline in one object.
type incidentWithTimeline struct {
	client.Incident
	Timeline []client.IncidentEvent `json:"timeline"`
}

func newIncidentShowCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident with its suspects and timeline",
		Args:  cobra.ExactArgs(1),
	}
	out := addOutput(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) (incidentWithTimeline, error) {
			id, err := parseIncidentID(args[0])
			if err != nil {
				return incidentWithTimeline{}, err
			}
			inc, err := c.Incident(ctx, id)
			if err != nil {
				return incidentWithTimeline{}, err
			}
			tl, err := c.IncidentTimeline(ctx, id)
			return incidentWithTimeline{inc, tl}, err
		}, func(w io.Writer, v incidentWithTimeline) error {
			printIncident(w, v.Incident)
			fmt.Fprintln(w, "\ntimeline:")
			for _, e := range v.Timeline {
				who := ""
				if e.Actor != "" {
					who = " (" + e.Actor + ")"
				}
				fmt.Fprintf(w, "  %s  %-14s %s%s\n", e.At.Local().Format("01-02 15:04:05"), e.Kind, e.Message, who)
			}
			return nil
		})
	}
	return cmd
}

func newIncidentActionCmd(g *globals, action, short string) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   action + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
	}
	out := addOutput(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) (client.Incident, error) {
			id, err := parseIncidentID(args[0])
			if err != nil {
				return client.Incident{}, err
			}
			return c.IncidentAction(ctx, id, action, note)
		}, func(w io.Writer, inc client.Incident) error {
			_, err := fmt.Fprintf(w, "#%d is %s\n", inc.ID, inc.Status)
			return err
		})
	}
	if action == "resolve" {
		cmd.Flags().StringVar(&note, "note", "", "what fixed it (recorded on the timeline)")
	}
	return cmd
}

// assignedTo names who an incident is assigned to.
func assignedTo(inc client.Incident) string {
	switch {
	case inc.Assignee != "":
		return inc.Assignee
	case inc.Policy != "":
		return inc.Policy + " (escalation policy)"
	}
	return "nobody (no escalation policy)"
}

func newIncidentReassignCmd(g *globals) *cobra.Command {
	var to client.IncidentAssignment
	cmd := &cobra.Command{
		Use:   "reassign ID --to PERSON | --policy NAME",
		Short: "Assign an incident to a person or an escalation policy and page them now",
		Example: `  tandem incident reassign 42 --to alice
  tandem incident reassign 42 --policy "Payments Escalation"`,
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&to.Person, "to", "", "the person to assign it to")
	cmd.Flags().StringVar(&to.Policy, "policy", "", "the escalation policy to assign it to")
	cmd.MarkFlagsOneRequired("to", "policy")
	cmd.MarkFlagsMutuallyExclusive("to", "policy")
	out := addOutput(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) (client.Incident, error) {
			id, err := parseIncidentID(args[0])
			if err != nil {
				return client.Incident{}, err
			}
			return c.ReassignIncident(ctx, id, to)
		}, func(w io.Writer, inc client.Incident) error {
			_, err := fmt.Fprintf(w, "#%d is assigned to %s and %s\n", inc.ID, assignedTo(inc), inc.Status)
			return err
		})
	}
	return cmd
}

func newIncidentRespondersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "responders",
		Short: "Ask people to join an incident",
	}
	add := &cobra.Command{
		Use:     "add ID PERSON...",
		Short:   "Page people to join an incident without changing its assignment",
		Example: `  tandem incident responders add 42 alice bob`,
		Args:    cobra.MinimumNArgs(2),
	}
	out := addOutput(add, "text", "json")
	add.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) (client.Incident, error) {
			id, err := parseIncidentID(args[0])
			if err != nil {
				return client.Incident{}, err
			}
			return c.AddIncidentResponders(ctx, id, args[1:])
		}, func(w io.Writer, inc client.Incident) error {
			var names []string
			for _, r := range inc.Responders {
				names = append(names, r.Person)
			}
			_, err := fmt.Fprintf(w, "#%d responders: %s\n", inc.ID, strings.Join(names, ", "))
			return err
		})
	}
	cmd.AddCommand(add)
	return cmd
}

func newIncidentNoteCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "note ID TEXT...",
		Short:   "Add a note to an incident's timeline",
		Example: `  tandem incident note 42 "rolled back checkout to v1.4.2"`,
		Args:    cobra.MinimumNArgs(2),
	}
	out := addOutput(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var id int64
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) (ev client.IncidentEvent, err error) {
			if id, err = parseIncidentID(args[0]); err != nil {
				return ev, err
			}
			return c.AddIncidentNote(ctx, id, strings.Join(args[1:], " "))
		}, func(w io.Writer, _ client.IncidentEvent) error {
			_, err := fmt.Fprintf(w, "noted on #%d\n", id)
			return err
		})
	}
	return cmd
}

func newIncidentUpdateCmd(g *globals) *cobra.Command {
	var status, message string
	cmd := &cobra.Command{
		Use:   "update ID --status investigating|identified|monitoring|resolved --message TEXT",
		Short: "Post a status update to the timeline, the incident channel and the status page",
		Example: `  tandem incident update 42 --status identified --message "A bad deploy of checkout; rolling back"
  tandem incident update 42 --status resolved --message "Checkout is healthy again"`,
		Args: cobra.ExactArgs(1),
	}
	out := addOutput(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var id int64
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) (ev client.IncidentEvent, err error) {
			if id, err = parseIncidentID(args[0]); err != nil {
				return ev, err
			}
			if status == "" {
				return ev, tandem.FieldErrorf("--status", "required: investigating, identified, monitoring or resolved")
			}
			if strings.TrimSpace(message) == "" {
				return ev, tandem.FieldErrorf("--message", "required")
			}
			return c.PostIncidentUpdate(ctx, id, status, message)
		}, func(w io.Writer, ev client.IncidentEvent) error {
			_, err := fmt.Fprintf(w, "#%d %s\n", id, ev.Message)
			return err
		})
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "", "investigating, identified, monitoring or resolved (resolved also resolves the incident)")
	fl.StringVar(&message, "message", "", "what to tell people")
	return cmd
}

func newMaintenanceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "maintenance", Short: "Maintenance windows: alerts are recorded but page nobody"}
	var (
		w          client.MaintenanceWindow
		start, end string
	)
	add := &cobra.Command{
		Use:     "add",
		Short:   "Add a maintenance window",
		Example: `  tandem maintenance add --service checkout --start 2026-03-01T22:00:00Z --end 2026-03-01T23:00:00Z --reason "db upgrade"`,
		Args:    cobra.NoArgs,
	}
	addOut := addOutput(add, "text", "json")
	add.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, addOut, func(ctx context.Context, c *client.Client) (client.MaintenanceWindow, error) {
			now := time.Now()
			var err error
			if start == "" {
				w.StartsAt = now
			} else if w.StartsAt, err = tandem.ParseTime(start, now); err != nil {
				return w, tandem.FieldErrorf("--start", "%v", err)
			}
			if end == "" {
				return w, tandem.FieldErrorf("--end", "required")
			}
			if d, derr := tandem.ParseDuration(end); derr == nil {
				w.EndsAt = w.StartsAt.Add(d)
			} else if w.EndsAt, err = tandem.ParseTime(end, now); err != nil {
				return w, tandem.FieldErrorf("--end", "%v", err)
			}
			return c.AddMaintenanceWindow(ctx, w)
		}, func(wr io.Writer, out client.MaintenanceWindow) error {
			_, err := fmt.Fprintf(wr, "maintenance window #%d on %s from %s to %s\n", out.ID, out.Service, out.StartsAt.Local().Format(time.RFC3339), out.EndsAt.Local().Format(time.RFC3339))
			return err
		})
	}
	fl := add.Flags()
	fl.StringVar(&w.Service, "service", "", "service (required)")
	fl.StringVar(&w.Reason, "reason", "", "why (required)")
	fl.StringVar(&start, "start", "", "start (RFC 3339; default now)")
	fl.StringVar(&end, "end", "", "end (RFC 3339) or a length such as 2h (required)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List maintenance windows that have not ended",
		Args:  cobra.NoArgs,
	}
	listOut := addOutput(list, "text", "json")
	list.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, listOut, func(ctx context.Context, c *client.Client) ([]client.MaintenanceWindow, error) {
			return c.MaintenanceWindows(ctx)
		}, func(wr io.Writer, ws []client.MaintenanceWindow) error {
			tw := tabwriter.NewWriter(wr, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSERVICE\tSTART\tEND\tREASON")
			for _, w := range ws {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", w.ID, w.Service, fmtTime(&w.StartsAt), fmtTime(&w.EndsAt), w.Reason)
			}
			return tw.Flush()
		})
	}
	endCmd := &cobra.Command{
		Use:     "end ID",
		Short:   "End a maintenance window now (cancel it if it has not started)",
		Example: "  tandem maintenance end 7",
		Args:    cobra.ExactArgs(1),
	}
	endOut := addOutput(endCmd, "text", "json")
	endCmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, endOut, func(ctx context.Context, c *client.Client) (client.MaintenanceWindow, error) {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return client.MaintenanceWindow{}, tandem.FieldErrorf("ID", "want a window number such as 7, got %q", args[0])
			}
			return c.EndMaintenanceWindow(ctx, id)
		}, func(w io.Writer, out client.MaintenanceWindow) error {
			verb := "ended"
			if out.EndedAt != nil && !out.EndedAt.After(out.StartsAt) {
				verb = "cancelled"
			}
			_, err := fmt.Fprintf(w, "maintenance window #%d on %s %s: alerts page again\n", out.ID, out.Service, verb)
			return err
		})
	}
	cmd.AddCommand(add, list, endCmd)
	return cmd
}

func newHeartbeatCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "heartbeat NAME",
		Short:   "Call a heartbeat monitor (from the job it watches)",
		Example: "  tandem heartbeat nightly-backup   # at the end of the backup job",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.Heartbeat(cmd.Context(), args[0])
		},
	}
}

func newJobsCmd(g *globals) *cobra.Command {
	var state, kind string
	var limit int
	cmd := &cobra.Command{
		Use:     "jobs",
		Short:   "List durable jobs (escalation steps, pages, …) by state (admin token)",
		Example: "  tandem jobs --state failed",
		Args:    cobra.NoArgs,
	}
	out := addOutput(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) ([]client.Job, error) {
			return c.Jobs(ctx, state, kind, limit)
		}, func(w io.Writer, jobs []client.Job) error {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tSTATE\tRUN AT\tATTEMPTS\tKEY\tLAST ERROR")
			for _, j := range jobs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.State, fmtTime(&j.RunAt), j.Attempts, j.MaxAttempts, j.Key, j.LastError)
			}
			return tw.Flush()
		})
	}
	fl := cmd.Flags()
	fl.StringVar(&state, "state", "", "queued, running, done or failed")
	fl.StringVar(&kind, "kind", "", "only this kind, e.g. incident.page")
	fl.IntVar(&limit, "limit", 100, "at most this many")
	return cmd
}

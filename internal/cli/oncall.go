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

// oncallCommands are the commands for on-call schedules, overrides and
// escalation policies.
func oncallCommands(g *globals) []*cobra.Command {
	cmd := &cobra.Command{Use: "oncall", Short: "On-call schedules: who is on call, shifts, overrides"}
	cmd.AddCommand(oncallWhoCmd(g), oncallShiftsCmd(g), oncallSchedulesCmd(g), oncallOverrideCmd(g))
	return []*cobra.Command{cmd}
}

// oncallFlagTime parses a --at/--from/--to flag; empty gives the zero time (the
// server's now). A leading "+" means ahead of now ("+7d").
func oncallFlagTime(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	now := time.Now()
	if ahead, ok := strings.CutPrefix(v, "+"); ok {
		d, err := tandem.ParseDuration(ahead)
		if err != nil {
			return time.Time{}, tandem.FieldErrorf(flag, "%v", err)
		}
		return now.Add(d), nil
	}
	t, err := tandem.ParseTime(v, now)
	if err != nil {
		return time.Time{}, tandem.FieldErrorf(flag, "%v", err)
	}
	return t, nil
}

func oncallShowTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("Mon 2006-01-02 15:04 MST")
}

func oncallWhoCmd(g *globals) *cobra.Command {
	var schedule, at, format string
	cmd := &cobra.Command{
		Use:   "who",
		Short: "Who is on call now (or --at a time), in one schedule or all",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "table", "json"); err != nil {
				return err
			}
			t, err := oncallFlagTime("at", at)
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			if schedule != "" {
				r, err := c.OnCall(cmd.Context(), schedule, t)
				if err != nil {
					return err
				}
				if format == "json" {
					return writeJSON(g.stdout, r)
				}
				fmt.Fprintf(tw, "SCHEDULE\tAT\tON CALL\n%s\t%s\t%s\n", r.Schedule, oncallShowTime(r.At), oncallNobody(r.OnCall))
				fmt.Fprintln(tw, "\nLAYER\tPERSON")
				for i := len(r.Layers) - 1; i >= 0; i-- {
					fmt.Fprintf(tw, "%s\t%s\n", r.Layers[i].Name, oncallDash(r.Layers[i].Person))
				}
				if r.Override != nil {
					fmt.Fprintf(tw, "override\t%s (until %s, by %s)\n", r.Override.Person, oncallShowTime(r.Override.End), oncallDash(r.Override.Author))
				}
				return tw.Flush()
			}
			s, err := c.OncallSummary(cmd.Context(), t)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, s)
			}
			fmt.Fprintln(tw, "SCHEDULE\tON CALL\tUNTIL\tNEXT")
			for _, sc := range s.Schedules {
				next := "-"
				if sc.Next != nil {
					next = sc.Next.Person + " from " + oncallShowTime(sc.Next.Start)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sc.Schedule, oncallNobody(sc.OnCall), oncallShowTime(sc.Until), next)
			}
			if len(s.Policies) > 0 {
				fmt.Fprintln(tw, "\nPOLICY\tRULE\tAFTER\tPAGES")
				for _, p := range s.Policies {
					after := 0
					for _, r := range p.Rules {
						fmt.Fprintf(tw, "%s\t%d\t%dm\t%s\n", p.Name, r.Rule+1, after, oncallNobody(r.People))
						after += r.EscalationDelayInMinutes
					}
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&schedule, "schedule", "", "one schedule (default: every schedule and policy)")
	cmd.Flags().StringVar(&at, "at", "", "the time: RFC 3339, a date, \"2h\" (ago) or \"+2h\" (ahead); default now")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func oncallShiftsCmd(g *globals) *cobra.Command {
	var schedule, from, to string
	cmd := &cobra.Command{
		Use:   "shifts",
		Short: "The shifts of a schedule between two times",
		Args:  cobra.NoArgs,
	}
	out := addOutput(cmd, "table", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) ([]client.Shift, error) {
			if schedule == "" {
				return nil, tandem.FieldErrorf("--schedule", "required: the schedule's name")
			}
			f, err := oncallFlagTime("from", from)
			if err != nil {
				return nil, err
			}
			t, err := oncallFlagTime("to", to)
			if err != nil {
				return nil, err
			}
			return c.Shifts(ctx, schedule, f, t)
		}, func(w io.Writer, shifts []client.Shift) error {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "START\tEND\tPERSON\tLAYER")
			for _, s := range shifts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", oncallShowTime(s.Start), oncallShowTime(s.End), s.Person, s.Layer)
			}
			return tw.Flush()
		})
	}
	cmd.Flags().StringVar(&schedule, "schedule", "", "the schedule (required)")
	cmd.Flags().StringVar(&from, "from", "", "start: RFC 3339, a date, \"2d\" (ago); default now")
	cmd.Flags().StringVar(&to, "to", "", "end: RFC 3339, a date, or \"+14d\" (ahead); default a week after --from")
	return cmd
}

func oncallSchedulesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "List the schedules and their layers",
		Args:  cobra.NoArgs,
	}
	out := addOutput(cmd, "table", "json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return call(cmd, g, out, func(ctx context.Context, c *client.Client) ([]client.Schedule, error) {
			return c.Schedules(ctx)
		}, func(w io.Writer, list []client.Schedule) error {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SCHEDULE\tTIME ZONE\tLAYERS\tON CALL")
			for _, s := range list {
				var layers []string
				for _, l := range s.Layers {
					layers = append(layers, fmt.Sprintf("%s(%s: %s)", l.Name, l.Rotation, strings.Join(l.Users, ",")))
				}
				now := "-"
				if s.Current != nil {
					now = oncallNobody(s.Current.OnCall)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.TimeZone, strings.Join(layers, " "), now)
			}
			return tw.Flush()
		})
	}
	return cmd
}

func oncallOverrideCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "override", Short: "Run-time overrides: someone covers a span"}
	var schedule, format string
	cmd.PersistentFlags().StringVar(&schedule, "schedule", "", "the schedule (required)")
	need := func() error {
		if schedule == "" {
			return tandem.FieldErrorf("--schedule", "required: the schedule's name")
		}
		return checkFormat(format, "table", "json")
	}
	var person, start, end, reason, author string
	add := &cobra.Command{
		Use:   "add",
		Short: "Put --person on call from --start to --end",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			s, err := oncallFlagTime("start", start)
			if err != nil {
				return err
			}
			e, err := oncallFlagTime("end", end)
			if err != nil {
				return err
			}
			if s.IsZero() {
				s = time.Now()
			}
			if e.IsZero() {
				return tandem.FieldErrorf("--end", "required: a time (RFC 3339, or \"+4h\" ahead)")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			o, err := c.AddOverride(cmd.Context(), schedule, client.NewOverride{Person: person,
				Start: s.UTC().Format(time.RFC3339), End: e.UTC().Format(time.RFC3339), Reason: reason, Author: author})
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, o)
			}
			fmt.Fprintf(g.stdout, "override %d: %s covers %s from %s to %s (by %s)\n", o.ID, o.Person, o.Schedule, oncallShowTime(o.Start), oncallShowTime(o.End), o.Author)
			return nil
		},
	}
	add.Flags().StringVar(&person, "person", "", "who covers (required)")
	add.Flags().StringVar(&start, "start", "", "start: RFC 3339 or \"+1h\" ahead; default now")
	add.Flags().StringVar(&end, "end", "", "end: RFC 3339 or \"+4h\" ahead (required)")
	add.Flags().StringVar(&reason, "reason", "", "why (shown with the override)")
	add.Flags().StringVar(&author, "author", "", "the person making the override (default: the token's name)")
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the schedule's current and future overrides (--all: past ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			from := time.Now()
			if all {
				from = time.Time{}
			}
			os, err := c.Overrides(cmd.Context(), schedule, from)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, os)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPERSON\tSTART\tEND\tAUTHOR\tSOURCE\tREASON")
			for _, o := range os {
				id := "-"
				if o.ID > 0 {
					id = strconv.FormatInt(o.ID, 10)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, o.Person, oncallShowTime(o.Start), oncallShowTime(o.End), oncallDash(o.Author), o.Source, o.Reason)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&all, "all", false, "include overrides that have ended")
	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a run-time override",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return tandem.FieldErrorf("id", "expected a positive override id, got %q", args[0])
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			o, err := c.RemoveOverride(cmd.Context(), schedule, id)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(g.stdout, o)
			}
			fmt.Fprintf(g.stdout, "removed override %d (%s on %s)\n", o.ID, o.Person, o.Schedule)
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&format, "format", "table", "table or json")
	cmd.AddCommand(add, list, remove)
	return cmd
}

func oncallNobody(people []string) string {
	if len(people) == 0 {
		return "(nobody)"
	}
	return strings.Join(people, ", ")
}

func oncallDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/toil"
)

// learningGenerators fill the history of postmortems, action items, toil
// and reliability OKRs (the OKRs themselves are in the example config and
// are measured from the other generators' data).
var learningGenerators = []generator{
	{name: "toil", run: genToil},
	{name: "postmortems", run: genPostmortems},
}

// toilKinds are the chores each team does by hand, with the minutes one
// occurrence takes and how many a week.
var toilKinds = map[string][]struct {
	category, service, note string
	minutes                 int
	perWeek                 float64
}{
	"platform": {
		{"restart", "postgres-main", "restart stuck replica", 30, 2},
		{"data-restore", "postgres-main", "restore rows from backup", 120, 1.5},
		{"cert-renewal", "ci-runners", "renew runner certificates", 45, 0.3},
		{"disk-cleanup", "ci-runners", "clean full runner disks", 20, 2},
	},
	"payments": {
		{"manual-refund", "payments-api", "refund a double charge by hand", 25, 2},
		{"invoice-rerun", "invoicing", "rerun the failed invoice batch", 60, 0.7},
	},
	"search":   {{"reindex", "search-api", "reindex after a bad mapping", 90, 0.5}},
	"identity": {{"user-unlock", "identity-api", "unlock locked-out accounts", 15, 3}},
}

func genToil(ctx context.Context, m *app.Main, rng *rand.Rand, now time.Time, days int) error {
	st := m.API.Learning.Toil
	if st == nil {
		return nil
	}
	cat := m.Config.Get().Catalog
	var entries []toil.Entry
	start := now.Add(-time.Duration(days) * 24 * time.Hour)
	for _, team := range []string{"platform", "payments", "search", "identity"} {
		members := []string{}
		if t, ok := cat.Team(team); ok {
			members = t.Members
		}
		for _, k := range toilKinds[team] {
			if _, ok := cat.Service(k.service); !ok {
				continue
			}
			for d := 0; d < days; d++ {
				rate := k.perWeek / 7
				if k.category == "data-restore" {
					// The restore goal is working: fewer restores each month.
					rate *= 1.6 - 1.2*float64(d)/float64(days)
				}
				if rng.Float64() >= rate {
					continue
				}
				at := start.Add(time.Duration(d)*24*time.Hour + time.Duration(8+rng.IntN(10))*time.Hour + time.Duration(rng.IntN(60))*time.Minute)
				e := toil.Entry{At: at.UTC(), Minutes: k.minutes/2 + rng.IntN(k.minutes+1), Category: k.category, Service: k.service, Team: team, Note: k.note, Source: "demo",
					ExternalID: fmt.Sprintf("demo-%s-%d-%d", k.category, d, len(entries))}
				if len(members) > 0 {
					e.Person = members[rng.IntN(len(members))]
				}
				entries = append(entries, e)
			}
		}
	}
	_, err := st.Import(ctx, entries, now)
	return err
}

// genPostmortems writes the postmortems of the closed incidents that
// qualify, through the normal generation path, then fills in action items
// (some of them overdue) the way a team would.
func genPostmortems(ctx context.Context, m *app.Main, rng *rand.Rand, now time.Time, days int) error {
	svc := m.API.Learning.Postmortems
	mgr := m.API.Incident.Manager
	if svc == nil || mgr == nil {
		return nil
	}
	incs, err := mgr.List(ctx, incident.Filter{Status: []string{incident.Closed}, Since: now.Add(-time.Duration(days) * 24 * time.Hour), Limit: 10000})
	if err != nil {
		return err
	}
	// The scenario's postmortem first: it is postmortem 1, the one the
	// README tour exports.
	sort.SliceStable(incs, func(i, j int) bool { return incs[i].Labels[storyLabel] != "" && incs[j].Labels[storyLabel] == "" })
	st := svc.CurrentSettings()
	owners := []string{"alice", "bob", "dave", "erin", "grace", "ivan", "mallory"}
	fixes := []string{"Alert on the symptom that paged late", "Add a runbook for this failure", "Load-test the slow path before release",
		"Add a canary stage to the deploy", "Make the migration online (no table lock)", "Cap the retry storm with backoff and jitter"}
	for _, inc := range incs {
		if !postmortem.Qualifies(st, inc.Severity, inc.Services) {
			continue
		}
		p, _, err := svc.Generate(ctx, inc.ID)
		if err != nil {
			return fmt.Errorf("postmortem for incident %d: %w", inc.ID, err)
		}
		if len(p.ActionItems) > 0 || p.Version > 1 {
			continue // already followed up
		}
		var b strings.Builder
		n := 2 + rng.IntN(2)
		for _, i := range rng.Perm(len(fixes))[:n] {
			// Due two to five weeks after the incident: old incidents have
			// overdue items, recent ones do not yet.
			due := inc.StartedAt.Add(time.Duration(14+rng.IntN(21)) * 24 * time.Hour)
			done := due.Before(now) && rng.IntN(3) > 0
			box := " "
			if done {
				box = "x"
			}
			fmt.Fprintf(&b, "- [%s] %s (owner: @%s, due: %s)\n", box, fixes[i], owners[rng.IntN(len(owners))], due.Format("2006-01-02"))
		}
		md := strings.TrimRight(p.Markdown, "\n") + "\n" + b.String()
		status := postmortem.InReview
		if inc.StartedAt.Before(now.Add(-14 * 24 * time.Hour)) {
			status = postmortem.Published
		}
		if _, err := svc.Save(ctx, p.ID, postmortem.Update{Markdown: &md, Status: &status}); err != nil {
			return err
		}
	}
	return nil
}

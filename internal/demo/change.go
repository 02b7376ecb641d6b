package demo

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/change"
)

// changeGenerators fill the history of change events (deploys, rollbacks,
// config changes, migrations, flags, chaos) and the commits they ship.
var changeGenerators = []generator{{name: "changes", run: generateChanges}}

// deliveryProfile is how a service ships: the spread of DORA tiers the
// demo shows (checkout elite, invoicing low).
type deliveryProfile struct {
	deploysPerDay float64       // mean successful cadence
	lead          time.Duration // median lead time of a commit
	failRate      float64       // share of deploys that fail
	recovery      time.Duration // median time to recover from a failed deploy
	commits       int           // mean commits per deploy
	other         float64       // config/flag/migration/chaos changes per day
	// cadence, when set, replaces the random cadence: a deploy every
	// cadence, every other one failing (a team that ships rarely).
	cadence time.Duration
}

var profiles = map[string]deliveryProfile{
	"checkout":      {deploysPerDay: 4, lead: 3 * time.Hour, failRate: 0.025, recovery: 25 * time.Minute, commits: 3, other: 0.5},
	"payments-api":  {deploysPerDay: 0.8, lead: 30 * time.Hour, failRate: 0.12, recovery: 3 * time.Hour, commits: 5, other: 0.3},
	"identity-api":  {deploysPerDay: 0.5, lead: 2 * 24 * time.Hour, failRate: 0.15, recovery: 5 * time.Hour, commits: 6, other: 0.2},
	"search-api":    {deploysPerDay: 0.3, lead: 10 * 24 * time.Hour, failRate: 0.28, recovery: 30 * time.Hour, commits: 10, other: 0.2},
	"postgres-main": {deploysPerDay: 0.15, lead: 12 * 24 * time.Hour, failRate: 0.2, recovery: 2 * 24 * time.Hour, commits: 4, other: 0.3},
	"ci-runners":    {deploysPerDay: 0.25, lead: 6 * 24 * time.Hour, failRate: 0.18, recovery: 20 * time.Hour, commits: 4, other: 0.1},
	"invoicing":     {cadence: 40 * 24 * time.Hour, lead: 45 * 24 * time.Hour, recovery: 9 * 24 * time.Hour, commits: 15, other: 0.05},
}

// measuredServices are the services whose users' requests feed a native
// SLO of the demo.
var measuredServices = func() map[string]struct{} {
	out := map[string]struct{}{}
	for _, d := range demoSLOs {
		out[d.service] = struct{}{}
	}
	return out
}()

// preTraffic are the reasons a deploy fails before it takes traffic.
var preTraffic = []string{"smoke test failed before the traffic shift", "health check timed out; the old version kept serving", "canary analysis failed at 1% of traffic"}

var fallbackProfile = deliveryProfile{deploysPerDay: 0.4, lead: 3 * 24 * time.Hour, failRate: 0.15, recovery: 6 * time.Hour, commits: 5, other: 0.1}

// logNormal draws around median with a spread that keeps most draws within
// a factor of about three.
func logNormal(rng *rand.Rand, median time.Duration) time.Duration {
	return time.Duration(float64(median) * math.Exp(rng.NormFloat64()*0.6))
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func fakeSHA(parts ...any) string {
	h := sha1.Sum([]byte(fmt.Sprint(parts...)))
	return hex.EncodeToString(h[:])
}

func generateChanges(ctx context.Context, m *app.Main, rng *rand.Rand, now time.Time, days int) error {
	store := m.API.Change.Store
	if store == nil {
		return nil
	}
	// Days start at midnight UTC, so the history is the same whatever the
	// hour the demo starts at (only the last hours differ).
	start := now.UTC().Truncate(24 * time.Hour).Add(-time.Duration(days) * 24 * time.Hour)
	people := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	var events []change.Event
	var commits []change.Commit
	seed := rng.Uint64()
	sc := story(now)
	for _, svc := range m.Config.Get().Catalog.Services {
		// Each service draws from its own stream, so one service's history
		// does not shift when another's is cut at now.
		rng := rand.New(rand.NewPCG(seed, fnv64(svc.Name)))
		p, ok := profiles[svc.Name]
		if !ok {
			p = fallbackProfile
		}
		version := 0
		deploy := func(at time.Time, status string, labels ...string) {
			version++
			n := 1 + rng.IntN(2*p.commits)
			e := change.Event{Service: svc.Name, Kind: change.KindDeploy, Version: fmt.Sprintf("1.%d.%d", version/20, version%20),
				StartedAt: at.Add(-time.Duration(3+rng.IntN(10)) * time.Minute), FinishedAt: at, Status: status,
				Actor: people[rng.IntN(len(people))], Source: "demo", ExternalID: fmt.Sprintf("%s-deploy-%d", svc.Name, version),
				Labels: labels, Links: map[string]string{"ci": fmt.Sprintf("https://ci.example.com/%s/%d", svc.Name, version)}}
			for c := 0; c < n; c++ {
				sha := fakeSHA(svc.Name, version, c)
				ct := at.Add(-logNormal(rng, p.lead))
				if ct.Before(start.Add(-60 * 24 * time.Hour)) {
					ct = start.Add(-60 * 24 * time.Hour)
				}
				commits = append(commits, change.Commit{Service: svc.Name, SHA: sha, CommittedAt: ct, Source: "demo"})
				e.Commits = append(e.Commits, sha)
			}
			e.Commit = e.Commits[len(e.Commits)-1]
			if status == change.StatusFailed {
				e.FailureReason = []string{"smoke test failed", "health check timed out", "error rate above 5% after rollout"}[rng.IntN(3)]
			}
			events = append(events, e)
		}
		// Deploys as a Poisson process on working hours (or on a cadence).
		// Checkout's stop before the scenario's bad deploy: the rollback
		// ended its budget, and the freeze has held its deploys since.
		stop := now.Add(-10 * time.Minute)
		if svc.Name == storyService {
			stop = sc.BadDeploy.Add(-30 * time.Minute)
		}
		// A service whose users' requests feed a native SLO shows every
		// failure its users see on its SLI (the scenario's); its other
		// failed deploys failed before taking traffic.
		_, measured := measuredServices[svc.Name]
		t := start
		for k := 0; ; k++ {
			if p.cadence > 0 {
				t = start.Add(5*24*time.Hour + time.Duration(k)*p.cadence + time.Duration(rng.IntN(48))*time.Hour)
			} else {
				t = t.Add(time.Duration(rng.ExpFloat64() / p.deploysPerDay * float64(24*time.Hour)))
			}
			if h := t.Hour(); h < 7 || h > 19 {
				t = t.Add(time.Duration(12+rng.IntN(3)) * time.Hour)
			}
			if !t.Before(stop) {
				break
			}
			fails := rng.Float64() < p.failRate
			if p.cadence > 0 {
				fails = k%2 == 0
			}
			if !fails {
				deploy(t, change.StatusSuccess)
				continue
			}
			rec := t.Add(logNormal(rng, p.recovery))
			if measured {
				rec = t.Add(time.Duration(20+rng.IntN(40)) * time.Minute)
			}
			if rec.After(stop) {
				deploy(t, change.StatusFailed)
				if measured {
					events[len(events)-1].FailureReason = preTraffic[rng.IntN(len(preTraffic))]
				}
				break
			}
			if measured {
				deploy(t, change.StatusFailed)
				events[len(events)-1].FailureReason = preTraffic[rng.IntN(len(preTraffic))]
				deploy(rec, change.StatusSuccess, change.LabelHotfix)
			} else if rng.IntN(2) == 0 || p.cadence > 0 {
				deploy(t, change.StatusFailed)
				deploy(rec, change.StatusSuccess, change.LabelHotfix)
			} else {
				// Looked fine, then was rolled back.
				deploy(t, change.StatusSuccess)
				version++
				events = append(events, change.Event{Service: svc.Name, Kind: change.KindRollback, Version: fmt.Sprintf("rollback-%d", version),
					FinishedAt: rec, Status: change.StatusSuccess, Actor: people[rng.IntN(len(people))], Source: "demo",
					ExternalID: fmt.Sprintf("%s-rollback-%d", svc.Name, version), FailureReason: "error budget burning after the deploy"})
			}
			t = rec
		}
		if svc.Name == storyService {
			// The scenario: a deploy whose SLO gate passed, then the
			// rollback the on-call engineer ran.
			prev := fmt.Sprintf("1.%d.%d", version/20, version%20)
			deploy(sc.BadDeploy, change.StatusSuccess)
			bad := events[len(events)-1].Version
			version++
			events = append(events, change.Event{Service: svc.Name, Kind: change.KindRollback, Version: prev,
				StartedAt: sc.Rollback.Add(-3 * time.Minute), FinishedAt: sc.Rollback, Status: change.StatusSuccess, Actor: "alice", Source: "demo",
				ExternalID: fmt.Sprintf("%s-rollback-%d", svc.Name, version), FailureReason: "rolled back " + bad + ": 30% of checkout requests failing"})
		}
		// Other kinds of change.
		kinds := []string{change.KindConfig, change.KindFlag, change.KindMigration, change.KindChaos}
		t = start
		for i := 0; p.other > 0; i++ {
			t = t.Add(time.Duration(rng.ExpFloat64() / p.other * float64(24*time.Hour)))
			if !t.Before(now.Add(-time.Minute)) || (svc.Name == storyService && !t.Before(stop)) {
				break
			}
			k := kinds[rng.IntN(len(kinds))]
			if k == change.KindChaos && rng.IntN(3) > 0 {
				k = change.KindConfig
			}
			status := change.StatusSuccess
			if rng.Float64() < 0.05 {
				status = change.StatusFailed
			}
			events = append(events, change.Event{Service: svc.Name, Kind: k, Version: fmt.Sprintf("%s-%d", k, i), FinishedAt: t, Status: status,
				Actor: people[rng.IntN(len(people))], Source: "demo", ExternalID: fmt.Sprintf("%s-%s-%d", svc.Name, k, i)})
		}
	}
	for i := 0; i < len(commits); i += 5000 {
		if _, err := store.RecordCommits(ctx, commits[i:min(i+5000, len(commits))], now); err != nil {
			return fmt.Errorf("demo commits: %w", err)
		}
	}
	for i := 0; i < len(events); i += 1000 {
		if _, err := store.Record(ctx, events[i:min(i+1000, len(events))], now); err != nil {
			return fmt.Errorf("demo changes: %w", err)
		}
	}
	return nil
}

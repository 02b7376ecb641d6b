package importer

import (
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

// Helpers the source tests share.

// fixtures reads the test files of dir matching pattern.
func fixtures(t *testing.T, dir, pattern string) map[string][]byte {
	t.Helper()
	files, err := readDir(dir, pattern)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// load renders a result and loads it as tandem does.
func load(t *testing.T, r *Result) *config.Config {
	t.Helper()
	files, err := Render(r, r.Source, "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(map[string][]byte{files[0].Name: files[0].Data}, time.Now())
	if err != nil {
		t.Fatalf("output does not validate: %v\n%s", err, files[0].Data)
	}
	return cfg
}

// instants returns 50 instants over the 8 weeks from start: a fixed
// pseudo-random spread plus the given ones (DST changes, handoffs,
// overrides).
func instants(start time.Time, must ...time.Time) []time.Time {
	rng := rand.New(rand.NewSource(15))
	out := append([]time.Time(nil), must...)
	for len(out) < 50 {
		out = append(out, start.Add(time.Duration(rng.Int63n(int64(56*24*time.Hour)))).Truncate(time.Minute))
	}
	return out
}

// pageKey is one page of an escalation as the tests compare them: the
// minute after the trigger and the targets, sorted.
func pageKey(minute int, targets []string) string {
	sort.Strings(targets)
	return time.Duration(minute*int(time.Minute)).String() + " " + strings.Join(targets, ",")
}

// schedule returns the loaded schedule of that name.
func schedule(t *testing.T, cfg *config.Config, name string) *oncall.Schedule {
	t.Helper()
	for _, s := range cfg.Oncall.Schedules {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no schedule %s", name)
	return nil
}

// policy returns the loaded escalation policy of that name.
func policy(t *testing.T, cfg *config.Config, name string) oncall.Policy {
	t.Helper()
	for _, p := range cfg.Oncall.Policies {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no escalation policy %s", name)
	return oncall.Policy{}
}

// pages lists minute and targets of every step of a policy.
func pages(p oncall.Policy) []string {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var out []string
	for _, st := range oncall.Plan(p, t0, time.Time{}) {
		var ts []string
		for _, tg := range st.Targets {
			ts = append(ts, tg.ID)
		}
		out = append(out, pageKey(int(st.At.Sub(t0)/time.Minute), ts))
	}
	return out
}

func warnings(r *Result) string {
	var b strings.Builder
	for _, w := range r.Warnings {
		b.WriteString(w.String() + "\n")
	}
	return b.String()
}

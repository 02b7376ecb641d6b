package okr

import (
	"context"
	"math"
	"testing"
	"time"
)

func mustTarget(t *testing.T, k Kind, s string) Target {
	t.Helper()
	tg, err := ParseTarget(k, s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		kind  Kind
		in    string
		op    string
		value float64
		red   float64
	}{
		{SLOAttainment, "> 99.95%", ">", 0.9995, 0},
		{ChangeFailureRate, "< 10%", "<", 0.10, 0},
		{RecoveryTime, "< 30m", "<", 30, 0},
		{RecoveryTime, "<= 1h30m", "<=", 90, 0},
		{TimeToDetect, "reduced by 30% against last quarter", "", 0, 0.30},
		{DeployFrequency, ">= 5/day", ">=", 5, 0},
		{DeployFrequency, ">= 14/week", ">=", 2, 0},
		{SafeLaunches, ">= 90%", ">=", 0.9, 0},
		{ToilHours, "< 40h", "<", 40, 0},
		{ToilHours, "reduce 50%", "", 0, 0.5},
	} {
		got, err := ParseTarget(c.kind, c.in)
		if err != nil {
			t.Errorf("%s %q: %v", c.kind, c.in, err)
			continue
		}
		if got.Op != c.op || math.Abs(got.Value-c.value) > 1e-9 || got.ReduceBy != c.red {
			t.Errorf("%s %q = %+v", c.kind, c.in, got)
		}
	}
	for _, c := range []struct {
		kind Kind
		in   string
	}{
		{SLOAttainment, "< 99.9%"}, // wrong direction
		{SLOAttainment, "> 99.9"},  // no percent
		{RecoveryTime, "< 30%"},    // not a duration
		{DeployFrequency, ">= 5"},  // no rate unit
		{ToilHours, "reduce 120%"}, // impossible
		{ChangeFailureRate, "low"}, // nonsense
		{ChangeFailureRate, "< 150%"},
	} {
		if _, err := ParseTarget(c.kind, c.in); err == nil {
			t.Errorf("%s %q accepted", c.kind, c.in)
		}
	}
}

func TestScore(t *testing.T) {
	start := 0.20
	for _, c := range []struct {
		name        string
		kr          KeyResult
		value, prev float64
		hasPrev     bool
		want        float64
		ok, met     bool
	}{
		// error rates: target 0.05%, actual 0.1% -> 0.0005/0.001 = 0.5
		{"attainment half", KeyResult{Kind: SLOAttainment, Target: mustTarget(t, SLOAttainment, "> 99.95%")}, 0.999, 0, false, 0.5, true, false},
		{"attainment met", KeyResult{Kind: SLOAttainment, Target: mustTarget(t, SLOAttainment, "> 99.95%")}, 0.9998, 0, false, 1, true, true},
		// CFR target 10%, actual 20% -> 0.10/0.20 = 0.5
		{"cfr over", KeyResult{Kind: ChangeFailureRate, Target: mustTarget(t, ChangeFailureRate, "< 10%")}, 0.20, 0, false, 0.5, true, false},
		// with start 20%: (0.15-0.20)/(0.10-0.20) = 0.5
		{"cfr from start", KeyResult{Kind: ChangeFailureRate, Target: mustTarget(t, ChangeFailureRate, "< 10%"), Start: &start}, 0.15, 0, false, 0.5, true, false},
		// MTTR target 30 min, actual 45 -> 30/45 = 0.6667
		{"recovery", KeyResult{Kind: RecoveryTime, Target: mustTarget(t, RecoveryTime, "< 30m")}, 45, 0, false, 0.6667, true, false},
		// TTD last quarter 20 min, target -30% = 14 min; now 17 -> (20-17)/(20*0.3) = 0.5
		{"ttd reduction", KeyResult{Kind: TimeToDetect, Target: mustTarget(t, TimeToDetect, "reduce 30%")}, 17, 20, true, 0.5, true, false},
		{"ttd reduction met", KeyResult{Kind: TimeToDetect, Target: mustTarget(t, TimeToDetect, "reduce 30%")}, 14, 20, true, 1, true, true},
		{"ttd worse", KeyResult{Kind: TimeToDetect, Target: mustTarget(t, TimeToDetect, "reduce 30%")}, 25, 20, true, 0, true, false},
		{"ttd no baseline", KeyResult{Kind: TimeToDetect, Target: mustTarget(t, TimeToDetect, "reduce 30%")}, 17, 0, false, 0, false, false},
		// 3 deploys/day against 5 -> 0.6
		{"deploy freq", KeyResult{Kind: DeployFrequency, Target: mustTarget(t, DeployFrequency, ">= 5/day")}, 3, 0, false, 0.6, true, false},
		// 8 of 10 launches safe against 90% -> 0.8/0.9 = 0.8889
		{"safe launches", KeyResult{Kind: SafeLaunches, Target: mustTarget(t, SafeLaunches, ">= 90%")}, 0.8, 0, false, 0.8889, true, false},
		// 50 toil hours against < 40 -> 40/50 = 0.8
		{"toil", KeyResult{Kind: ToilHours, Target: mustTarget(t, ToilHours, "< 40h")}, 50, 0, false, 0.8, true, false},
		{"toil zero", KeyResult{Kind: ToilHours, Target: mustTarget(t, ToilHours, "< 40h")}, 0, 0, false, 1, true, true},
	} {
		got, ok := Score(c.kr, c.value, c.prev, c.hasPrev)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: score = %v ok %v, want %v ok %v", c.name, got, ok, c.want, c.ok)
		}
		if ok && c.kr.Target.Met(c.value, c.prev) != c.met {
			t.Errorf("%s: met = %v, want %v", c.name, !c.met, c.met)
		}
	}
}

func TestTrend(t *testing.T) {
	for _, c := range []struct {
		kind        Kind
		value, prev float64
		want        string
	}{
		{RecoveryTime, 20, 30, "improving"},
		{RecoveryTime, 40, 30, "worsening"},
		{SLOAttainment, 0.9995, 0.999, "flat"}, // within 1%
		{DeployFrequency, 4, 2, "improving"},
		{ToilHours, 0, 0, "flat"},
	} {
		if got := Trend(c.kind, c.value, c.prev); got != c.want {
			t.Errorf("%s %v vs %v = %s, want %s", c.kind, c.value, c.prev, got, c.want)
		}
	}
}

func TestQuarter(t *testing.T) {
	q, err := ParseQuarter("2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	if !q.Start().Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || !q.End().Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("%v %v", q.Start(), q.End())
	}
	if q.Prev() != (Quarter{2026, 3}) || (Quarter{2026, 1}).Prev() != (Quarter{2025, 4}) {
		t.Error("prev")
	}
	if QuarterOf(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)) != q {
		t.Error("QuarterOf")
	}
	for _, bad := range []string{"2026Q5", "Q4", "2026-4", ""} {
		if _, err := ParseQuarter(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEvaluate(t *testing.T) {
	q := Quarter{2026, 4}
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	objs := []Objective{
		{Name: "fast-recovery", Title: "Recover fast", Team: "payments", Quarter: q, KeyResults: []KeyResult{
			{Name: "mttr", Kind: RecoveryTime, Target: mustTarget(t, RecoveryTime, "< 30m")},
			{Name: "ttd", Kind: TimeToDetect, Target: mustTarget(t, TimeToDetect, "reduce 30%")},
			{Name: "launches", Kind: SafeLaunches, Target: mustTarget(t, SafeLaunches, ">= 90%")},
		}},
		{Name: "other-team", Team: "search", Quarter: q},
		{Name: "shared", Quarter: q, KeyResults: []KeyResult{{Name: "toil", Kind: ToilHours, Target: mustTarget(t, ToilHours, "< 40h")}}},
		{Name: "last-quarter", Quarter: q.Prev()},
	}
	var seen []Scope
	m := Metrics{
		RecoveryTime: func(_ context.Context, kr KeyResult, s Scope, from, to time.Time) (float64, bool, error) {
			seen = append(seen, s)
			if from.Equal(q.Start()) {
				if !to.Equal(now) {
					t.Errorf("current window ends %v, want now", to)
				}
				return 45, true, nil // current: 30/45 = 0.6667
			}
			return 60, true, nil // previous: improving
		},
		TimeToDetect: func(_ context.Context, kr KeyResult, s Scope, from, to time.Time) (float64, bool, error) {
			if from.Equal(q.Start()) {
				return 17, true, nil
			}
			return 20, true, nil // (20-17)/(20*0.3) = 0.5
		},
		ToilHours: func(_ context.Context, kr KeyResult, s Scope, from, to time.Time) (float64, bool, error) {
			return 0, false, nil
		},
	}
	services := func(team string) []string {
		if team == "payments" {
			return []string{"checkout", "payments-api"}
		}
		return []string{"all"}
	}
	got, err := Evaluate(context.Background(), objs, q, "payments", m, services, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "fast-recovery" || got[1].Name != "shared" {
		t.Fatalf("objectives = %+v", got)
	}
	fr := got[0]
	// (0.6667 + 0.5 + 0 unavailable) / 3 = 0.3889
	if fr.Score == nil || *fr.Score != 0.3889 || fr.Scored != 2 {
		t.Errorf("objective score = %v of %d scored, want 0.3889 of 2", fr.Score, fr.Scored)
	}
	mttr, ttd, launches := fr.KeyResults[0], fr.KeyResults[1], fr.KeyResults[2]
	if mttr.Status != "ok" || *mttr.Current != 45 || *mttr.Previous != 60 || mttr.Score == nil || *mttr.Score != 0.6667 || mttr.Trend != "improving" || mttr.Met {
		t.Errorf("mttr = %+v", mttr)
	}
	if ttd.Score == nil || *ttd.Score != 0.5 || *ttd.TargetValue != 14 || ttd.Trend != "improving" {
		t.Errorf("ttd = %+v", ttd)
	}
	if launches.Status != "unavailable" || launches.Score != nil {
		t.Errorf("launches = %+v", launches)
	}
	// Nothing measured: no score at all, not a score of 0.
	if got[1].KeyResults[0].Status != "no_data" || got[1].KeyResults[0].Score != nil || got[1].Score != nil || got[1].Scored != 0 {
		t.Errorf("shared = %+v", got[1])
	}
	if len(seen) == 0 || len(seen[0].Services) != 2 || seen[0].Team != "payments" {
		t.Errorf("scope = %+v", seen)
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"> 99.95%", "< 30m", ">= 5/day", "reduce 30%", "< 40h", "<= 1h30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range Kinds {
			tg, err := ParseTarget(k, s)
			if err != nil {
				continue
			}
			if math.IsNaN(tg.Value) || tg.Value < 0 || tg.ReduceBy < 0 || tg.ReduceBy >= 1 {
				t.Fatalf("%s %q = %+v", k, s, tg)
			}
		}
	})
}

package toil

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBuildReport(t *testing.T) {
	cur, prev, err := MonthPeriod("2026-11")
	if err != nil {
		t.Fatal(err)
	}
	entries := []Entry{
		// November (current)
		{At: at("2026-11-02T10:00:00Z"), Minutes: 90, Category: "restart", Team: "platform", Person: "dave", Service: "postgres-main"},
		{At: at("2026-11-15T10:00:00Z"), Minutes: 30, Category: "restart", Team: "platform", Person: "erin", Service: "postgres-main"},
		{At: at("2026-11-30T23:59:00Z"), Minutes: 120, Category: "data-restore", Team: "payments", Person: "alice", Service: "checkout"},
		// October (previous)
		{At: at("2026-10-01T00:00:00Z"), Minutes: 60, Category: "restart", Team: "platform", Person: "dave"},
		{At: at("2026-10-20T00:00:00Z"), Minutes: 60, Category: "restart", Team: "platform", Person: "dave"},
		{At: at("2026-10-21T00:00:00Z"), Minutes: 45, Category: "cert-renewal", Team: "platform", Person: "frank"},
		// outside both
		{At: at("2026-12-01T00:00:00Z"), Minutes: 600, Category: "restart"},
		{At: at("2026-09-30T23:59:59Z"), Minutes: 600, Category: "restart"},
	}
	r := BuildReport(entries, cur, prev, ByCategory, map[string]float64{"total": 160})
	// restart: Nov 90+30 = 120 min = 2 h; Oct 60+60 = 2 h; change 0 -> flat.
	// data-restore: Nov 2 h; Oct 0 -> new.
	// cert-renewal: Nov 0; Oct 45 min = 0.75 h; change -100% -> down.
	// total: Nov 240 min = 4 h; Oct 165 min = 2.75 h; change 75/165 = 0.4545;
	// on-call 160 h -> share 4/160 = 0.025.
	want := []struct {
		key         string
		hours, prev float64
		trend       string
		change      float64
	}{
		{"restart", 2, 2, "flat", 0}, // ties on hours: more previous hours first
		{"data-restore", 2, 0, "new", 0},
		{"cert-renewal", 0, 0.75, "down", -1},
	}
	if len(r.Rows) != len(want) {
		t.Fatalf("rows = %+v", r.Rows)
	}
	for i, w := range want {
		g := r.Rows[i]
		if g.Key != w.key || g.Hours != w.hours || g.PrevHours != w.prev || g.Trend != w.trend {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
		if w.trend != "new" && (g.Change == nil || *g.Change != w.change) {
			t.Errorf("row %d change = %v, want %v", i, g.Change, w.change)
		}
	}
	tot := r.Total
	if tot.Hours != 4 || tot.PrevHours != 2.75 || tot.Trend != "up" || *tot.Change != 0.4545 || tot.Entries != 3 {
		t.Errorf("total = %+v", tot)
	}
	if tot.OncallShare == nil || *tot.OncallShare != 0.025 {
		t.Errorf("on-call share = %v, want 0.025", tot.OncallShare)
	}

	byPerson := BuildReport(entries, cur, prev, ByPerson, map[string]float64{"dave": 40})
	// dave: Nov 90 min = 1.5 h, Oct 2 h: change -0.25; on call 40 h: 1.5/40 = 0.0375.
	for _, row := range byPerson.Rows {
		if row.Key == "dave" {
			if row.Hours != 1.5 || *row.Change != -0.25 || *row.OncallShare != 0.0375 {
				t.Errorf("dave = %+v", row)
			}
		}
	}
}

func TestResolvePeriod(t *testing.T) {
	now := at("2026-11-25T12:00:00Z")
	cur, prev, err := ResolvePeriod("", "90d", now)
	if err != nil {
		t.Fatal(err)
	}
	if !cur.From.Equal(at("2026-08-27T12:00:00Z")) || !prev.From.Equal(at("2026-05-29T12:00:00Z")) || !prev.To.Equal(cur.From) {
		t.Errorf("since 90d: %v %v", cur, prev)
	}
	if _, _, err := ResolvePeriod("2026-13", "", now); err == nil {
		t.Error("month 2026-13 accepted")
	}
	if _, _, err := ResolvePeriod("2026-11", "30d", now); err == nil {
		t.Error("both month and since accepted")
	}
}

func TestEvaluateGoal(t *testing.T) {
	start, deadline := at("2026-10-01T00:00:00Z"), at("2026-12-01T00:00:00Z")
	g := Goal{Name: "restores", Category: "data-restore", ReduceBy: 0.8, Window: 30 * 24 * time.Hour, Start: start, Deadline: deadline}
	entries := []Entry{
		// baseline window Sep 1..Oct 1: 10 h of restores (and other toil that does not count)
		{At: at("2026-09-05T00:00:00Z"), Minutes: 300, Category: "data-restore"},
		{At: at("2026-09-20T00:00:00Z"), Minutes: 300, Category: "data-restore"},
		{At: at("2026-09-21T00:00:00Z"), Minutes: 999, Category: "restart"},
		// current window (Oct 31..Nov 30): 4 h
		{At: at("2026-11-10T00:00:00Z"), Minutes: 240, Category: "data-restore"},
	}
	now := at("2026-11-30T00:00:00Z")
	st := EvaluateGoal(g, entries, now)
	// baseline 10 h, target 10*(1-0.8) = 2 h, current 4 h:
	// progress (10-4)/(10-2) = 0.75; expected 60 days of 61 = 0.9836 -> behind.
	if st.BaselineHours != 10 || st.TargetHours != 2 || st.CurrentHours != 4 || st.Progress != 0.75 || st.Expected != 0.9836 || st.State != "behind" {
		t.Errorf("status = %+v", st)
	}
	g.BaselineHours = 12 // explicit baseline wins: (12-4)/(12-2.4) = 0.8333
	st = EvaluateGoal(g, entries, now)
	if st.TargetHours != 2.4 || st.Progress != 0.8333 {
		t.Errorf("explicit baseline: %+v", st)
	}
	g.TargetHours = 4 // reached
	if st := EvaluateGoal(g, entries, now); st.State != "achieved" || st.Progress != 1 {
		t.Errorf("target reached: %+v", st)
	}
	g.TargetHours = 1
	if st := EvaluateGoal(g, entries, at("2026-12-05T00:00:00Z")); st.State != "missed" {
		t.Errorf("after deadline: %+v", st)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		e     Entry
		field string
	}{
		{Entry{Minutes: 0, Category: "x", At: at("2026-11-01T00:00:00Z")}, "minutes"},
		{Entry{Minutes: MaxMinutes + 1, Category: "x", At: at("2026-11-01T00:00:00Z")}, "minutes"},
		{Entry{Minutes: 5, Category: "  ", At: at("2026-11-01T00:00:00Z")}, "category"},
		{Entry{Minutes: 5, Category: "bad/cat", At: at("2026-11-01T00:00:00Z")}, "category"},
		{Entry{Minutes: 5, Category: "ok"}, "at"},
	} {
		err := c.e.Validate()
		if err == nil || !containsField(err, c.field) {
			t.Errorf("%+v: err = %v, want field %s", c.e, err, c.field)
		}
	}
	e := Entry{Minutes: 5, Category: "Data Restore", At: at("2026-11-01T00:00:00Z")}
	if err := e.Validate(); err != nil || e.Category != "data-restore" || e.Source != "manual" {
		t.Errorf("normalize: %+v %v", e, err)
	}
}

func TestWriteReportCSV(t *testing.T) {
	cur, prev, _ := MonthPeriod("2026-11")
	r := BuildReport([]Entry{
		{At: at("2026-11-02T10:00:00Z"), Minutes: 90, Category: "restart"},
		{At: at("2026-10-02T10:00:00Z"), Minutes: 60, Category: "restart"},
	}, cur, prev, ByCategory, nil)
	var b strings.Builder
	if err := WriteReport(&b, r, "csv"); err != nil {
		t.Fatal(err)
	}
	// 90 min = 1.5 h against 1 h: +50%.
	want := "key,entries,hours,previous_hours,change,trend,oncall_hours,oncall_share\nrestart,1,1.5,1,0.5,up,,\ntotal,1,1.5,1,0.5,up,,\n"
	if b.String() != want {
		t.Errorf("csv =\n%s\nwant\n%s", b.String(), want)
	}
	if err := WriteReport(&b, r, "xml"); err == nil {
		t.Error("xml accepted")
	}
}

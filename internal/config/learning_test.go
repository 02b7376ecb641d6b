package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func examplesDir(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../examples/tandem.d")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLearningExample(t *testing.T) {
	cfg, err := Load(examplesDir(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	lc := cfg.Learning
	pc := lc.Postmortem
	if pc.MinSeverity != "sev1" || pc.ServiceSeverity["checkout"] != "sev2" || pc.Lookback != 6*time.Hour {
		t.Errorf("postmortems = %+v", pc)
	}
	if pc.Templates.Default == nil || pc.Templates.Team["payments"] == nil {
		t.Errorf("templates = %+v", pc.TemplateFiles)
	}
	if pc.Fields[""]["chat_log"] == "" || pc.Fields["payments"]["severity_rating"] == "" {
		t.Errorf("fields = %+v", pc.Fields)
	}
	if !filepath.IsAbs(pc.Directory) {
		t.Errorf("directory %q not resolved", pc.Directory)
	}
	if len(lc.ToilGoals) != 2 || lc.ToilGoals[0].ReduceBy != 0.8 || lc.ToilGoals[1].TargetHours != 5 {
		t.Errorf("goals = %+v", lc.ToilGoals)
	}
	if len(lc.Objectives) != 3 {
		t.Fatalf("objectives = %+v", lc.Objectives)
	}
	cr := lc.Objectives[0]
	if cr.Name != "checkout-reliable" || cr.Quarter.String() != "2026Q4" || len(cr.KeyResults) != 4 ||
		cr.KeyResults[1].Start == nil || *cr.KeyResults[1].Start != 0.2 || cr.KeyResults[3].BudgetThreshold != 0.05 {
		t.Errorf("objective = %+v", cr)
	}
}

func TestLearningErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("catalog.yaml", `teams: [{name: payments}]
services: [{name: checkout, team: payments}]
`)
	write("learning.yaml", `postmortems:
  min_severity: sev9
  services: {chekout: sev2}
toil_goals:
  - name: g
    reduce_by: 120%
    start: 2026-10-01
    deadline: 2026-09-01
objectives:
  - name: o
    team: paymnts
    quarter: 2026Q5
    key_results:
      - kind: slo_attainment
        target: "< 99%"
      - kind: uptime
        target: "> 1%"
`)
	write("templates/payments.md", "# {{.Incident.Title}}\n\n{{if .Team}}\nno end\n")
	write("templates/nosuchteam.md", "x")
	_, err := Load(dir, time.Now())
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	text := err.Error()
	for _, want := range []string{
		"learning.yaml:2:17: postmortems.min_severity: want sev1",
		`learning.yaml:3:23: postmortems.services.chekout: service "chekout" does not exist; did you mean "checkout"?`,
		"toil_goals.g.reduce_by",
		"toil_goals.g.deadline: must be after start",
		`objectives.o.team: team "paymnts" does not exist; did you mean "payments"?`,
		"objectives.o.quarter",
		"objectives.o.key_results[0].target",
		"objectives.o.key_results[1].kind",
		"templates/payments.md:5: template: unexpected EOF",
		`team "nosuchteam" does not exist`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
}

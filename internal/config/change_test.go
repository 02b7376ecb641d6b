package config

import (
	"strings"
	"testing"
	"time"
)

const changeCatalog = `
teams: [{name: payments}]
services: [{name: checkout, team: payments}]
`

func TestChangeSection(t *testing.T) {
	cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(changeCatalog), "change.yaml": []byte(`
github:
  webhook_secret_env: GH_SECRET
  deploy_workflows: [Deploy]
  environments: {prod: production}
  repositories: {example/checkout: checkout}
dora:
  incident_window: 12h
`)}, now)
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Change.GitHub
	if g.SecretEnv != "GH_SECRET" || g.Repositories["example/checkout"] != "checkout" || g.DeployWorkflows[0] != "Deploy" {
		t.Errorf("github = %+v", g)
	}
	if got := g.WebhookSecret(func(k string) string { return map[string]string{"GH_SECRET": "s3cret"}[k] }); got != "s3cret" {
		t.Errorf("secret = %q", got)
	}
	if strings.Contains(g.String(), "s3cret") {
		t.Error("String shows the secret")
	}
	if cfg.Change.DORA.IncidentWindow != 12*time.Hour || cfg.Change.DORA.ReworkWindow != 24*time.Hour {
		t.Errorf("dora = %+v", cfg.Change.DORA)
	}

	// Defaults without the sections.
	cfg, err = Parse(map[string][]byte{"catalog.yaml": []byte(changeCatalog)}, now)
	if err != nil || cfg.Change.DORA.IncidentWindow != 24*time.Hour {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
}

func TestChangeSectionErrors(t *testing.T) {
	_, err := Parse(map[string][]byte{"catalog.yaml": []byte(changeCatalog), "change.yaml": []byte(`github:
  webhook_secret_env: "not a name"
  deploy_workflows: [Deploy, Deploy]
  repositories: {example/checkout: chekout, bad: checkout}
dora:
  incident_window: soon
  rework_widow: 2h
`), "more.yaml": []byte(`github: {webhook_secret: x}
`)}, now)
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	for _, want := range []string{
		`change.yaml:2:23: github.webhook_secret_env: want an environment variable name, got "not a name"`,
		`change.yaml:3:30: github.deploy_workflows: duplicate workflow "Deploy"`,
		`change.yaml:4:36: github.repositories.example/checkout: service "chekout" does not exist; did you mean "checkout"?`,
		`change.yaml:4:50: github.repositories.bad: want owner/name, got "bad"`,
		`change.yaml:6:20: dora.incident_window: want a duration from 1m to 90d such as 24h, got "soon"`,
		`change.yaml:7:3: dora.rework_widow: unknown field`,
		`more.yaml:1:9: github: github is already configured in change.yaml`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	_, err = Parse(map[string][]byte{"catalog.yaml": []byte(changeCatalog), "change.yaml": []byte("dora:\n  incident_window: soon\n")}, now)
	if err == nil || !strings.Contains(err.Error(), `change.yaml:2:20: dora.incident_window: want a duration`) {
		t.Errorf("bad duration: %v", err)
	}
}

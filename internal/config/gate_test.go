package config

import (
	"strings"
	"testing"
	"time"
)

func TestGateSection(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	good := "gates:\n  notify:\n    - type: webhook\n      url: https://ci.example.com/hook\n      secret_env: HOOK_SECRET\n    - type: email\n      to: releases@example.com\n  verification:\n    window: 30m\n    max_burn_rate: 5\n"
	cfg, err := Parse(map[string][]byte{"gates.yaml": []byte(good)}, now)
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Gate
	if len(g.Notify) != 2 || g.Notify[0].SecretEnv != "HOOK_SECRET" || g.Verification.Window != 30*time.Minute ||
		g.Verification.MaxBurnRate != 5 || g.Verification.Baseline != time.Hour || g.Verification.MinEvents != 100 {
		t.Errorf("config %+v", g)
	}
	empty, err := Parse(map[string][]byte{}, now)
	if err != nil || empty.Gate.Verification.Window != 15*time.Minute {
		t.Errorf("defaults %+v %v", empty.Gate, err)
	}
	bad := "gates:\n  notify:\n    - type: pager\n    - type: slack\n    - type: webhook\n      url: x\n      url_env: Y\n    - type: email\n  verification:\n    baseline: -1h\n    min_events: 0\n    colour: red\n"
	_, err = Parse(map[string][]byte{"g.yaml": []byte(bad), "h.yaml": []byte("gates: {}\n")}, now)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"g.yaml:3:13: gates.notify[0].type", "gates.notify[1].url", "gates.notify[2].url", "gates.notify[3].to",
		"gates.verification.baseline", "gates.verification.min_events", "colour", "h.yaml:1:8: gates: gates is already configured in g.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

// gates.github: a token from the environment or a file, or a GitHub App;
// check runs and deployment statuses on unless turned off; exactly one
// way to authenticate, with every bad key reported at its line.
func TestGateGitHub(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		doc  string
		want GateGitHub
	}{
		{"gates:\n  github:\n    token_env: TANDEM_GITHUB_TOKEN\n",
			GateGitHub{TokenEnv: "TANDEM_GITHUB_TOKEN", CheckRuns: true, DeploymentStatuses: true}},
		{"gates:\n  github:\n    api_url: https://ghe.example.com/api/v3/\n    token_file: /run/secrets/gh\n    deployment_statuses: false\n",
			GateGitHub{APIURL: "https://ghe.example.com/api/v3", TokenFile: "/run/secrets/gh", CheckRuns: true}},
		{"gates:\n  github:\n    check_runs: false\n    app:\n      id: 12345\n      installation_id: 67890\n      private_key_file: /etc/tandem/app.pem\n",
			GateGitHub{AppID: "12345", InstallationID: 67890, PrivateKeyFile: "/etc/tandem/app.pem", DeploymentStatuses: true}},
	} {
		cfg, err := Parse(map[string][]byte{"gates.yaml": []byte(tt.doc)}, now)
		if err != nil {
			t.Errorf("%s: %v", tt.doc, err)
			continue
		}
		if cfg.Gate.GitHub == nil || *cfg.Gate.GitHub != tt.want {
			t.Errorf("%s:\n got  %+v\n want %+v", tt.doc, cfg.Gate.GitHub, tt.want)
		}
	}
	if cfg, err := Parse(map[string][]byte{"gates.yaml": []byte("gates:\n  verification:\n    window: 30m\n")}, now); err != nil || cfg.Gate.GitHub != nil {
		t.Errorf("without gates.github: %+v %v", cfg.Gate.GitHub, err)
	}
	for doc, wants := range map[string][]string{
		"gates:\n  github:\n    check_runs: true\n":                              {"gates.yaml:3:5: gates.github: set one of token_env, token_file and app"},
		"gates:\n  github:\n    token_env: A\n    token_file: /x\n":              {"gates.github: set one of"},
		"gates:\n  github:\n    token_env: 'not a name'\n    api_url: ftp://x\n": {"gates.github.token_env", "gates.yaml:4:14: gates.github.api_url"},
		"gates:\n  github:\n    app:\n      installation_id: -1\n":               {"gates.github.app.id", "gates.github.app.installation_id", "gates.github.app.private_key_file"},
		"gates:\n  github:\n    token_env: A\n    tokne_file: /x\n":              {"tokne_file"},
	} {
		_, err := Parse(map[string][]byte{"gates.yaml": []byte(doc)}, now)
		if err == nil {
			t.Errorf("accepted:\n%s", doc)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: errors lack %q:\n%v", doc, w, err)
			}
		}
	}
}

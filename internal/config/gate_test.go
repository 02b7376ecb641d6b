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

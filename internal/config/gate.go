package config

import (
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/gate"
)

// GateSection holds the top-level keys of a tandem document for CI/CD
// gates, post-deploy verification and migration checks:
//
//	gates:
//	  notify:                       # where failing gates are announced
//	    - type: slack
//	      url_env: TANDEM_GATES_SLACK_URL
//	    - type: webhook
//	      url: https://ci.example.com/hooks/tandem
//	      secret_env: TANDEM_GATES_WEBHOOK_SECRET
//	    - type: email
//	      to: releases@example.com
//	  verification:                 # defaults of post-deploy verification
//	    window: 15m
//	    baseline: 1h
//	    min_events: 100
//	    alpha: 0.01
//	    max_error_ratio_increase: 0.005
//	    max_latency_increase: 0.2
//	    max_burn_rate: 10
//
// The key may appear in one document only.
type GateSection struct {
	// Gates configures the CI/CD gates: where failing gate results are sent
	// and the defaults of post-deploy verification. At most one document
	// may set it.
	Gates *GatesSpec `yaml:"gates"`
}

// GatesSpec is the gates: key as written.
type GatesSpec struct {
	// Notify lists the channels every failing gate result is sent to.
	Notify []GateChannelSpec `yaml:"notify"`
	// Verification holds the defaults of post-deploy verification;
	// tandem verify deploy --window and --baseline override them.
	Verification *VerificationSpec `yaml:"verification"`
}

// GateChannelSpec is one notification channel as written.
type GateChannelSpec struct {
	// Type is the channel's kind (required): slack, webhook or email.
	Type string `yaml:"type"`
	// URL is the Slack incoming webhook or the webhook's http(s) URL; a
	// slack or webhook channel needs url or url_env, not both.
	URL string `yaml:"url"`
	// URLEnv names the environment variable holding the URL instead, read
	// when a message is sent.
	URLEnv string `yaml:"url_env"`
	// SecretEnv names the environment variable holding the key that signs
	// a webhook channel's messages, read when a message is sent.
	SecretEnv string `yaml:"secret_env"`
	// To is the recipient of an email channel (required for email), sent
	// through notifications.email.
	To string `yaml:"to"`
}

// VerificationSpec is gates.verification as written.
type VerificationSpec struct {
	// Window is how long after a deploy is measured, a duration up to 7d
	// (default 15m).
	Window string `yaml:"window"`
	// Baseline is how long before the deploy the window is compared with,
	// a duration up to 7d (default 1h).
	Baseline string `yaml:"baseline"`
	// MinEvents is the least number of events each window needs for a check
	// to decide, above 0 (default 100); fewer make it inconclusive.
	MinEvents *float64 `yaml:"min_events"`
	// Alpha is the significance level of the one-sided tests, above 0 and
	// at most 0.5 (default 0.01).
	Alpha *float64 `yaml:"alpha"`
	// MaxErrorRatioIncrease is the rise of the error ratio tolerated even
	// when significant, above 0 and at most 1 (default 0.005).
	MaxErrorRatioIncrease *float64 `yaml:"max_error_ratio_increase"`
	// MaxLatencyIncrease is the relative rise of p95 latency tolerated even
	// when significant, above 0 and at most 100 (default 0.2).
	MaxLatencyIncrease *float64 `yaml:"max_latency_increase"`
	// MaxBurnRate is the highest burn rate allowed in the window after the
	// deploy, above 0 (default 10).
	MaxBurnRate *float64 `yaml:"max_burn_rate"`
}

// GateConfig is the validated config for CI/CD gates, post-deploy
// verification and migration checks.
type GateConfig struct {
	// Notify lists the channels failing gates are sent to. URLs and secrets
	// given as environment variables are read when a message is sent.
	Notify []GateChannel
	// Verification holds the verification defaults (DefaultVerifyOptions
	// where not set).
	Verification gate.VerifyOptions

	pending *gateNodes
}

// GateChannel is one validated notification channel.
type GateChannel struct {
	Type      string // slack, webhook or email
	URL       string
	URLEnv    string
	SecretEnv string
	To        string
}

type gateNodes struct {
	spec *GatesSpec
	file string
	node *yaml.Node
}

// collectGate files the section's items of one document, with their nodes.
func (l *loader) collectGate(file string, root *yaml.Node, d *document) {
	if d.Gates == nil {
		return
	}
	if l.cfg.Gate.pending != nil {
		l.errAt(file, root, "gates", "gates", "gates is already configured in %s", l.cfg.Gate.pending.file)
		return
	}
	l.cfg.Gate.pending = &gateNodes{spec: d.Gates, file: file, node: at(root, "gates")}
}

// buildGate validates the collected items and fills l.cfg.Gate.
func (l *loader) buildGate() {
	st := l.cfg.Gate.pending
	out := GateConfig{Verification: gate.DefaultVerifyOptions}
	if st == nil {
		l.cfg.Gate = out
		return
	}
	f, n := st.file, st.node
	for i, c := range st.spec.Notify {
		path := "gates.notify[" + strconv.Itoa(i) + "]"
		cn := item(at(n, "notify"), i)
		switch c.Type {
		case "slack", "webhook":
			if (c.URL == "") == (c.URLEnv == "") {
				l.errAt(f, cn, "url", path+".url", "set url or url_env (one of them)")
			}
		case "email":
			if c.To == "" {
				l.errAt(f, cn, "to", path+".to", "required for email")
			}
		default:
			l.errAt(f, cn, "type", path+".type", "want slack, webhook or email, got %q", c.Type)
		}
		for key, v := range map[string]string{"url_env": c.URLEnv, "secret_env": c.SecretEnv} {
			if v != "" && !envNameRe.MatchString(v) {
				l.errAt(f, cn, key, path+"."+key, "want an environment variable name, got %q", v)
			}
		}
		out.Notify = append(out.Notify, GateChannel(c))
	}
	if v := st.spec.Verification; v != nil {
		vn := at(n, "verification")
		dur := func(key, s string, dst *time.Duration) {
			if s == "" {
				return
			}
			d, err := tandem.ParseDuration(s)
			if err != nil || d <= 0 || d > 7*24*time.Hour {
				l.errAt(f, vn, key, "gates.verification."+key, "want a duration up to 7d such as 15m, got %q", s)
				return
			}
			*dst = d
		}
		dur("window", v.Window, &out.Verification.Window)
		dur("baseline", v.Baseline, &out.Verification.Baseline)
		num := func(key string, p *float64, lo, hi float64, dst *float64) {
			if p == nil {
				return
			}
			if *p <= lo || *p > hi {
				l.errAt(f, vn, key, "gates.verification."+key, "want a number above %g and at most %g, got %g", lo, hi, *p)
				return
			}
			*dst = *p
		}
		num("min_events", v.MinEvents, 0, 1e12, &out.Verification.MinEvents)
		num("alpha", v.Alpha, 0, 0.5, &out.Verification.Alpha)
		num("max_error_ratio_increase", v.MaxErrorRatioIncrease, 0, 1, &out.Verification.MaxErrorRatioIncrease)
		num("max_latency_increase", v.MaxLatencyIncrease, 0, 100, &out.Verification.MaxLatencyIncrease)
		num("max_burn_rate", v.MaxBurnRate, 0, 1e6, &out.Verification.MaxBurnRate)
	}
	l.cfg.Gate = out
}

package config

import (
	"net/url"
	"strconv"
	"strings"
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
//	  github:                       # results as check runs and deployment statuses
//	    token_env: TANDEM_GITHUB_TOKEN   # or token_file, or app:
//	    # app: {id: "12345", installation_id: 67890, private_key_file: /etc/tandem/github-app.pem}
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
	// GitHub posts every gate result of a service with a GitHub repository
	// as a check run on its commit, and verification results of deploys
	// recorded with a GitHub deployment id as deployment statuses. The
	// repository of a service is its catalog repository URL or its entry
	// in github.repositories.
	GitHub *GateGitHubSpec `yaml:"github"`
}

// GateGitHubSpec is gates.github as written. Give one of token_env,
// token_file and app.
type GateGitHubSpec struct {
	// APIURL is the GitHub API root, an http(s) URL: https://HOST/api/v3
	// for GitHub Enterprise Server (default https://api.github.com).
	APIURL string `yaml:"api_url"`
	// TokenEnv names the environment variable holding a GitHub token, read
	// at each call. Check runs can only be written with a GitHub App's
	// installation token (such as an Actions GITHUB_TOKEN); prefer app.
	TokenEnv string `yaml:"token_env"`
	// TokenFile is a file path holding the token instead, read at each call
	// (a mounted secret that may be rotated).
	TokenFile string `yaml:"token_file"`
	// App authenticates as a GitHub App installation with checks and
	// deployments write permission.
	App *GitHubAppSpec `yaml:"app"`
	// CheckRuns posts gate results as check runs (default true).
	CheckRuns *bool `yaml:"check_runs"`
	// DeploymentStatuses posts verification results as deployment
	// statuses (default true).
	DeploymentStatuses *bool `yaml:"deployment_statuses"`
}

// GitHubAppSpec is gates.github.app as written.
type GitHubAppSpec struct {
	// ID is the app's id or client id, the iss of the JWT tandem signs
	// (required).
	ID string `yaml:"id"`
	// InstallationID is the id of the app's installation on the
	// repositories' account (required).
	InstallationID int64 `yaml:"installation_id"`
	// PrivateKeyFile is a file path holding the app's private key as
	// GitHub gives it (PEM), read when tandem starts or reloads (required).
	PrivateKeyFile string `yaml:"private_key_file"`
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
	// GitHub is how results reach GitHub (nil: they do not).
	GitHub *GateGitHub

	pending *gateNodes
}

// GateGitHub is the validated gates.github: a token from TokenEnv or
// TokenFile, or the App (AppID set).
type GateGitHub struct {
	APIURL                        string
	TokenEnv, TokenFile           string
	AppID                         string
	InstallationID                int64
	PrivateKeyFile                string
	CheckRuns, DeploymentStatuses bool
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
	if gh := st.spec.GitHub; gh != nil {
		out.GitHub = l.buildGateGitHub(f, at(n, "github"), gh)
	}
	l.cfg.Gate = out
}

// buildGateGitHub validates gates.github.
func (l *loader) buildGateGitHub(f string, n *yaml.Node, gh *GateGitHubSpec) *GateGitHub {
	out := &GateGitHub{APIURL: strings.TrimRight(gh.APIURL, "/"), TokenEnv: gh.TokenEnv, TokenFile: gh.TokenFile, CheckRuns: true, DeploymentStatuses: true}
	if gh.CheckRuns != nil {
		out.CheckRuns = *gh.CheckRuns
	}
	if gh.DeploymentStatuses != nil {
		out.DeploymentStatuses = *gh.DeploymentStatuses
	}
	if out.APIURL != "" {
		if u, err := url.Parse(out.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.errAt(f, n, "api_url", "gates.github.api_url", "want an http(s) URL, got %q", gh.APIURL)
		}
	}
	given := 0
	for _, set := range []bool{gh.TokenEnv != "", gh.TokenFile != "", gh.App != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		l.errAt(f, n, "", "gates.github", "set one of token_env, token_file and app")
	}
	if gh.TokenEnv != "" && !envNameRe.MatchString(gh.TokenEnv) {
		l.errAt(f, n, "token_env", "gates.github.token_env", "want an environment variable name, got %q", gh.TokenEnv)
	}
	if a := gh.App; a != nil {
		an := at(n, "app")
		if strings.TrimSpace(a.ID) == "" {
			l.errAt(f, an, "id", "gates.github.app.id", "required: the app's id or client id")
		}
		if a.InstallationID <= 0 {
			l.errAt(f, an, "installation_id", "gates.github.app.installation_id", "required: a positive installation id")
		}
		if a.PrivateKeyFile == "" {
			l.errAt(f, an, "private_key_file", "gates.github.app.private_key_file", "required: the app's private key (PEM)")
		}
		out.AppID, out.InstallationID, out.PrivateKeyFile = strings.TrimSpace(a.ID), a.InstallationID, a.PrivateKeyFile
	}
	return out
}

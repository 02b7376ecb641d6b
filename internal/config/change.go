package config

import (
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
)

// ChangeSection holds the top-level keys of a tandem document for change
// events, GitHub deploy webhooks and DORA metrics:
//
//	github:
//	  webhook_secret_env: TANDEM_GITHUB_WEBHOOK_SECRET  # or webhook_secret: "…" (tests)
//	  deploy_workflows: [Deploy]        # workflow_run events of these are deploys
//	  workflow_environment: production
//	  environments: {prod: production}  # GitHub environment -> tandem environment
//	  repositories: {example/checkout: checkout}
//	dora:
//	  incident_window: 24h
//	  rework_window: 24h
//
// Each key may appear in one document only.
type ChangeSection struct {
	// GitHub configures the GitHub webhook, POST /api/v1/webhooks/github,
	// that records deploys and commits. At most one document may set it.
	GitHub *GitHubSection `yaml:"github"`
	// DORA tunes how DORA metrics count failed deploys and rework. At most
	// one document may set it.
	DORA *DORASection `yaml:"dora"`
}

// GitHubSection is the github: key as written.
type GitHubSection struct {
	// WebhookSecretEnv names the environment variable holding the webhook
	// secret, read when a delivery arrives; unset, every delivery is
	// refused. One of webhook_secret_env and webhook_secret is required.
	WebhookSecretEnv string `yaml:"webhook_secret_env"`
	// WebhookSecret is the secret itself, for tests only (config is kept in
	// Git); set it or webhook_secret_env, not both.
	WebhookSecret string `yaml:"webhook_secret"`
	// DeployWorkflows names the GitHub Actions workflows whose runs are
	// deploys; workflow_run events of others are ignored.
	DeployWorkflows []string `yaml:"deploy_workflows"`
	// WorkflowEnvironment is the environment of workflow-run deploys
	// (default production).
	WorkflowEnvironment string `yaml:"workflow_environment"`
	// Environments renames GitHub deployment environments to tandem's, as
	// in prod: production.
	Environments map[string]string `yaml:"environments"`
	// Repositories are the services of owner/name repositories that no
	// service's repository URL names.
	Repositories map[string]string `yaml:"repositories"`
}

// DORASection is the dora: key as written.
type DORASection struct {
	// IncidentWindow is how long after a service's last deploy an incident
	// on the service counts that deploy as failed, a duration up to 90d
	// (default 24h).
	IncidentWindow string `yaml:"incident_window"`
	// ReworkWindow is how long after a failed deploy another deploy of the
	// same service counts as rework, a duration up to 90d (default 24h).
	ReworkWindow string `yaml:"rework_window"`
}

// ChangeConfig is the validated config for change events, GitHub deploy
// webhooks and DORA metrics.
type ChangeConfig struct {
	GitHub GitHubConfig
	DORA   DORAConfig

	// pending holds the sections while a load collects them.
	pending *changeNodes
}

// GitHubConfig configures the GitHub webhook endpoint.
type GitHubConfig struct {
	// SecretEnv names the environment variable holding the webhook secret;
	// it is read when a delivery arrives, so config validation needs no
	// secret. Secret is a literal secret (for tests); SecretEnv wins.
	SecretEnv string
	Secret    string
	// DeployWorkflows names workflows whose runs are deploys.
	DeployWorkflows []string
	// WorkflowEnvironment is the environment of workflow-run deploys.
	WorkflowEnvironment string
	// Environments renames GitHub environments.
	Environments map[string]string
	// Repositories maps "owner/name" to a catalog service.
	Repositories map[string]string
}

// WebhookSecret returns the secret the webhook checks signatures with, or
// "" when none is configured (every delivery is then refused).
func (g GitHubConfig) WebhookSecret(getenv func(string) string) string {
	if g.SecretEnv != "" {
		return getenv(g.SecretEnv)
	}
	return g.Secret
}

// String never shows the secret.
func (g GitHubConfig) String() string {
	s := "github{"
	if g.SecretEnv != "" {
		s += "secret from $" + g.SecretEnv
	} else if g.Secret != "" {
		s += "secret set"
	} else {
		s += "no secret"
	}
	return s + "}"
}

// DORAConfig holds the DORA options.
type DORAConfig struct {
	// IncidentWindow: an incident on a service within this time after a
	// deploy counts the deploy as failed (default 24h).
	IncidentWindow time.Duration
	// ReworkWindow: a deploy within this time after a failed one is rework
	// (default 24h).
	ReworkWindow time.Duration
}

type changeNodes struct {
	github     *GitHubSection
	githubFile string
	githubNode *yaml.Node
	dora       *DORASection
	doraFile   string
	doraNode   *yaml.Node
}

func (l *loader) changeState() *changeNodes {
	if l.cfg.Change.pending == nil {
		l.cfg.Change.pending = &changeNodes{}
	}
	return l.cfg.Change.pending
}

// collectChange files the section's items of one document, with their nodes.
func (l *loader) collectChange(file string, root *yaml.Node, d *document) {
	st := l.changeState()
	if d.GitHub != nil {
		if st.github != nil {
			l.errAt(file, root, "github", "github", "github is already configured in %s", st.githubFile)
		} else {
			st.github, st.githubFile, st.githubNode = d.GitHub, file, at(root, "github")
		}
	}
	if d.DORA != nil {
		if st.dora != nil {
			l.errAt(file, root, "dora", "dora", "dora is already configured in %s", st.doraFile)
		} else {
			st.dora, st.doraFile, st.doraNode = d.DORA, file, at(root, "dora")
		}
	}
}

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// buildChange validates the collected items (references into the catalog
// included) and fills l.cfg.Change.
func (l *loader) buildChange() {
	st := l.changeState()
	out := ChangeConfig{DORA: DORAConfig{IncidentWindow: 24 * time.Hour, ReworkWindow: 24 * time.Hour}}
	if g := st.github; g != nil {
		f, n := st.githubFile, st.githubNode
		if g.WebhookSecretEnv != "" && !envNameRe.MatchString(g.WebhookSecretEnv) {
			l.errAt(f, n, "webhook_secret_env", "github.webhook_secret_env", "want an environment variable name, got %q", g.WebhookSecretEnv)
		}
		if g.WebhookSecretEnv != "" && g.WebhookSecret != "" {
			l.errAt(f, n, "webhook_secret", "github.webhook_secret", "set webhook_secret_env or webhook_secret, not both")
		}
		if g.WebhookSecretEnv == "" && g.WebhookSecret == "" {
			l.errAt(f, n, "", "github.webhook_secret_env", "required: the environment variable holding the webhook secret")
		}
		seen := map[string]bool{}
		for i, w := range g.DeployWorkflows {
			if strings.TrimSpace(w) == "" {
				l.errAt(f, item(at(n, "deploy_workflows"), i), "", "github.deploy_workflows", "empty workflow name")
			} else if seen[w] {
				l.errAt(f, item(at(n, "deploy_workflows"), i), "", "github.deploy_workflows", "duplicate workflow %q", w)
			}
			seen[w] = true
		}
		repos := at(n, "repositories")
		keys := make([]string, 0, len(g.Repositories))
		for k := range g.Repositories {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, repo := range keys {
			svc := g.Repositories[repo]
			if strings.Count(repo, "/") != 1 || strings.HasPrefix(repo, "/") || strings.HasSuffix(repo, "/") {
				l.errAt(f, repos, repo, "github.repositories."+repo, "want owner/name, got %q", repo)
			}
			if _, ok := l.cfg.Catalog.Service(svc); !ok {
				msg := "service \"" + svc + "\" does not exist"
				if c := closestServices(l, svc); c != "" {
					msg += "; did you mean " + c + "?"
				}
				l.errAt(f, repos, repo, "github.repositories."+repo, "%s", msg)
			}
		}
		out.GitHub = GitHubConfig{SecretEnv: g.WebhookSecretEnv, Secret: g.WebhookSecret, DeployWorkflows: g.DeployWorkflows,
			WorkflowEnvironment: g.WorkflowEnvironment, Environments: g.Environments, Repositories: g.Repositories}
	}
	if d := st.dora; d != nil {
		f, n := st.doraFile, st.doraNode
		parse := func(key, v string, dst *time.Duration) {
			if v == "" {
				return
			}
			dur, err := tandem.ParseDuration(v)
			if err != nil || dur <= 0 || dur > 90*24*time.Hour {
				l.errAt(f, n, key, "dora."+key, "want a duration from 1m to 90d such as 24h, got %q", v)
				return
			}
			*dst = dur
		}
		parse("incident_window", d.IncidentWindow, &out.DORA.IncidentWindow)
		parse("rework_window", d.ReworkWindow, &out.DORA.ReworkWindow)
	}
	l.cfg.Change = out
}

func closestServices(l *loader, name string) string {
	var quoted []string
	for _, c := range catalog.Closest(name, l.cfg.Catalog.ServiceNames(), 3) {
		quoted = append(quoted, "\""+c+"\"")
	}
	return strings.Join(quoted, ", ")
}

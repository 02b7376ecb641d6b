package incident

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/change"
)

// MaxInboundBody bounds an inbound webhook body.
const MaxInboundBody = 4 << 20

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return tandem.FieldErrorf(te.Field, "wrong type: want %s", te.Type)
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return tandem.FieldErrorf("body", "not valid JSON")
		}
		return tandem.FieldErrorf("body", "%s", err.Error())
	}
	if dec.More() {
		return tandem.FieldErrorf("body", "more than one JSON value")
	}
	return nil
}

// AlertmanagerPayload is Alertmanager's webhook body, version 4.
type AlertmanagerPayload struct {
	Version           string              `json:"version"`
	GroupKey          string              `json:"groupKey"`
	TruncatedAlerts   int                 `json:"truncatedAlerts"`
	Status            string              `json:"status"`
	Receiver          string              `json:"receiver"`
	GroupLabels       map[string]string   `json:"groupLabels"`
	CommonLabels      map[string]string   `json:"commonLabels"`
	CommonAnnotations map[string]string   `json:"commonAnnotations"`
	ExternalURL       string              `json:"externalURL"`
	Alerts            []AlertmanagerAlert `json:"alerts"`
}

// AlertmanagerAlert is one alert of an Alertmanager notification.
type AlertmanagerAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// SLOLabel is the label that makes an alert an SLO burn-rate alert: the
// rules of `tandem slo rules` (and Pyrra's) set it to the SLO's name.
const SLOLabel = "slo"

// SLOGroupKey is the group key (with source "slo") of the incident for the
// burn-rate alerts of one SLO and severity label (page, ticket). tandem's
// own evaluator and the alerts Alertmanager forwards for the same SLO and
// severity share it, so one burn is one incident whichever path reports
// it first; the incident resolves when every path says resolved.
func SLOGroupKey(slo, severity string) string {
	return "slo:" + slo + ":" + strings.ToLower(strings.TrimSpace(severity))
}

// ParseAlertmanager decodes and checks an Alertmanager webhook body and
// maps it to alert groups. Alerts that carry SLOLabel join the group of
// their SLO and severity (SLOGroupKey, source "slo"), one group each; the
// other alerts form one group with the notification's group key, which
// identifies the incident. Each alert's fingerprint identifies the alert;
// service and severity come from the labels through mp (common labels
// first, then the first alert's; an SLO group's from its first alert). A
// notification with only SLO alerts gives no group of its own.
func ParseAlertmanager(body []byte, mp Mapping) ([]AlertGroup, error) {
	var p AlertmanagerPayload
	if err := decodeStrict(body, &p); err != nil {
		return nil, err
	}
	if p.Version != "4" {
		return nil, tandem.FieldErrorf("version", "want webhook payload version 4, got %q", p.Version)
	}
	if p.GroupKey == "" {
		return nil, tandem.FieldErrorf("groupKey", "groupKey is required")
	}
	if len(p.Alerts) == 0 {
		return nil, tandem.FieldErrorf("alerts", "no alerts")
	}
	for i, a := range p.Alerts {
		if a.Fingerprint == "" {
			return nil, tandem.FieldErrorf(fmt.Sprintf("alerts[%d].fingerprint", i), "fingerprint is required")
		}
		if a.Status != Firing && a.Status != AlertClosed {
			return nil, tandem.FieldErrorf(fmt.Sprintf("alerts[%d].status", i), "want firing or resolved; got %q", a.Status)
		}
	}
	var rest []AlertmanagerAlert
	var out []AlertGroup
	slo := map[string]int{} // group key → index in out
	for _, a := range p.Alerts {
		name := strings.TrimSpace(a.Labels[SLOLabel])
		if name == "" {
			rest = append(rest, a)
			continue
		}
		key := SLOGroupKey(name, a.Labels[severityLabel(mp)])
		i, ok := slo[key]
		if !ok {
			g := AlertGroup{Source: "slo", GroupKey: key, Service: mp.Service(a.Labels), Severity: mp.Severity(a.Labels),
				Title: a.Annotations["summary"], Summary: a.Annotations["description"], Labels: a.Labels, Links: links(p, a)}
			if g.Service == "" {
				g.Service = UnknownService
			}
			if g.Title == "" {
				g.Title = groupTitle(nil, a.Labels)
			}
			i = len(out)
			slo[key] = i
			out = append(out, g)
		}
		// The fingerprint names the path, so that tandem's own alert for the
		// same burn is another alert of the same incident.
		out[i].Alerts = append(out[i].Alerts, groupAlert(a, "alertmanager:"+a.Fingerprint))
	}
	if len(rest) == 0 {
		return out, nil
	}
	labels := map[string]string{}
	for k, v := range rest[0].Labels {
		labels[k] = v
	}
	for k, v := range p.CommonLabels {
		labels[k] = v
	}
	g := AlertGroup{Source: "alertmanager", GroupKey: p.GroupKey, Service: mp.Service(labels), Severity: mp.Severity(labels),
		Labels: p.CommonLabels, Links: links(p, rest[0])}
	if g.Labels == nil {
		g.Labels = map[string]string{}
	}
	if g.Service == "" {
		// Alertmanager does not retry a 4xx: refusing the group would lose
		// the alert. It opens under UnknownService and pages the fallback
		// policy (Settings.FallbackPolicy).
		g.Service = UnknownService
	}
	g.Title = p.CommonAnnotations["summary"]
	if g.Title == "" {
		g.Title = groupTitle(p.GroupLabels, labels)
	}
	g.Summary = p.CommonAnnotations["description"]
	for _, a := range rest {
		g.Alerts = append(g.Alerts, groupAlert(a, a.Fingerprint))
		if a.GeneratorURL != "" && g.Links["source"] == "" {
			g.Links["source"] = a.GeneratorURL
		}
	}
	return append([]AlertGroup{g}, out...), nil
}

func severityLabel(mp Mapping) string {
	if mp.SeverityLabel == "" {
		return "severity"
	}
	return mp.SeverityLabel
}

// links are an Alertmanager group's links: its externalURL, the runbook_url
// annotation and the first alert's generatorURL.
func links(p AlertmanagerPayload, first AlertmanagerAlert) map[string]string {
	l := map[string]string{}
	if p.ExternalURL != "" {
		l["alertmanager"] = p.ExternalURL
	}
	if u := p.CommonAnnotations["runbook_url"]; u != "" {
		l["runbook"] = u
	} else if u := first.Annotations["runbook_url"]; u != "" {
		l["runbook"] = u
	}
	if first.GeneratorURL != "" {
		l["source"] = first.GeneratorURL
	}
	return l
}

func groupAlert(a AlertmanagerAlert, fingerprint string) GroupAlert {
	ends := a.EndsAt
	if a.Status == Firing {
		ends = time.Time{}
	}
	return GroupAlert{Fingerprint: fingerprint, Status: a.Status, Labels: a.Labels, StartsAt: a.StartsAt, EndsAt: ends}
}

func groupTitle(group, labels map[string]string) string {
	name := labels["alertname"]
	keys := make([]string, 0, len(group))
	for k := range group {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+group[k])
	}
	if name == "" {
		name = "alert"
	}
	if len(parts) > 0 {
		return name + " (" + strings.Join(parts, ", ") + ")"
	}
	return name
}

// GitHubIssueEvent is the part of GitHub's "issues" webhook event tandem
// reads.
type GitHubIssueEvent struct {
	Action string `json:"action"`
	Issue  struct {
		Number  int    `json:"number"`
		Title   string `json:"title"`
		Body    string `json:"body"`
		HTMLURL string `json:"html_url"`
		State   string `json:"state"`
		Labels  []struct {
			Name string `json:"name"`
		} `json:"labels"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"issue"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
}

// VerifyGitHubSignature checks the X-Hub-Signature-256 header ("sha256=" and
// the hex HMAC-SHA256 of the body keyed with the webhook secret) in
// constant time, the same check as change.VerifySignature.
func VerifyGitHubSignature(secret string, body []byte, header string) bool {
	return change.VerifySignature([]byte(secret), body, header)
}

// GitHubAction is what a GitHub issues event asks of tandem.
type GitHubAction struct {
	// Op is "alert" (open or mirror the incident), "close" (close it) or ""
	// (nothing: the issue carries no severity label or the action is
	// irrelevant).
	Op    string
	Group AlertGroup
}

// ParseGitHubIssue maps an issues event: an issue labelled sev1..sev4
// (opened, labeled, edited, reopened) opens or mirrors an incident on the
// service named by a "service:NAME" label (else defaultService); closing
// the issue closes it. The incident's group key is the repository and issue
// number.
func ParseGitHubIssue(body []byte, defaultService string) (GitHubAction, error) {
	var ev GitHubIssueEvent
	if err := decodeStrict(body, &ev); err != nil {
		return GitHubAction{}, err
	}
	if ev.Issue.Number <= 0 || ev.Repository.FullName == "" {
		return GitHubAction{}, tandem.FieldErrorf("issue.number", "issue number and repository are required")
	}
	sev, service := "", defaultService
	for _, l := range ev.Issue.Labels {
		if s, ok := ParseSeverity(l.Name); ok && strings.HasPrefix(strings.ToLower(l.Name), "sev") && (sev == "" || s < sev) {
			sev = s
		}
		if name, ok := strings.CutPrefix(l.Name, "service:"); ok && strings.TrimSpace(name) != "" {
			service = strings.TrimSpace(name)
		}
	}
	key := ev.Repository.FullName + "#" + strconv.Itoa(ev.Issue.Number)
	g := AlertGroup{Source: "github", GroupKey: key, Service: service, Severity: sev, Title: ev.Issue.Title,
		Summary: truncateText(ev.Issue.Body, 4000), Labels: map[string]string{"github_issue": key},
		Links:  map[string]string{"github": ev.Issue.HTMLURL},
		Alerts: []GroupAlert{{Fingerprint: key, Status: Firing, Labels: map[string]string{"alertname": "GitHubIssue"}, StartsAt: ev.Issue.CreatedAt}}}
	off := false
	g.AutoResolve = &off
	g.Mirror = true
	switch ev.Action {
	case "closed":
		return GitHubAction{Op: "close", Group: g}, nil
	case "opened", "labeled", "edited", "reopened":
		if sev == "" {
			return GitHubAction{}, nil
		}
		if service == "" {
			return GitHubAction{}, tandem.FieldErrorf("issue.labels", "no service:NAME label and no default service configured")
		}
		return GitHubAction{Op: "alert", Group: g}, nil
	}
	return GitHubAction{}, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// UnknownService is the service of an Alertmanager alert group that has no
// service label when no default service is configured.
const UnknownService = "unknown"

// GenericAlert is the body of the generic webhook (docs/webhooks.md).
type GenericAlert struct {
	// GroupKey identifies the incident: alerts with the same key update
	// one incident. Required.
	GroupKey string `json:"group_key"`
	// Fingerprint identifies the alert within the group (default:
	// group_key).
	Fingerprint string `json:"fingerprint,omitempty"`
	// Status is firing (default) or resolved.
	Status   string            `json:"status,omitempty"`
	Service  string            `json:"service"`
	Severity string            `json:"severity,omitempty"`
	Title    string            `json:"title"`
	Summary  string            `json:"summary,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Links    map[string]string `json:"links,omitempty"`
	StartsAt *time.Time        `json:"starts_at,omitempty"`
}

// ParseGeneric decodes the generic webhook body (unknown fields are
// rejected) and maps it to an alert group with source "webhook".
func ParseGeneric(body []byte, mp Mapping) (AlertGroup, error) {
	var a GenericAlert
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return AlertGroup{}, tandem.FieldErrorf(te.Field, "wrong type: want %s", te.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return AlertGroup{}, tandem.FieldErrorf(strings.Trim(f, `"`), "unknown field")
		}
		return AlertGroup{}, tandem.FieldErrorf("body", "not valid JSON")
	}
	if dec.More() {
		return AlertGroup{}, tandem.FieldErrorf("body", "more than one JSON value")
	}
	if strings.TrimSpace(a.GroupKey) == "" {
		return AlertGroup{}, tandem.FieldErrorf("group_key", "group_key is required")
	}
	if a.Service == "" {
		a.Service = mp.Service(a.Labels)
	}
	if a.Service == "" {
		return AlertGroup{}, tandem.FieldErrorf("service", "service is required")
	}
	sev := a.Severity
	if sev == "" {
		sev = mp.Severity(a.Labels)
	} else if s, ok := ParseSeverity(sev); ok {
		sev = s
	} else {
		return AlertGroup{}, tandem.FieldErrorf("severity", "want sev1..sev4; got %q", a.Severity)
	}
	if a.Status == "" {
		a.Status = Firing
	}
	if a.Status != Firing && a.Status != AlertClosed {
		return AlertGroup{}, tandem.FieldErrorf("status", "want firing or resolved; got %q", a.Status)
	}
	if a.Fingerprint == "" {
		a.Fingerprint = a.GroupKey
	}
	var starts time.Time
	if a.StartsAt != nil {
		starts = *a.StartsAt
	}
	return AlertGroup{Source: "webhook", GroupKey: a.GroupKey, Service: a.Service, Severity: sev, Title: a.Title, Summary: a.Summary,
		Labels: a.Labels, Links: a.Links,
		Alerts: []GroupAlert{{Fingerprint: a.Fingerprint, Status: a.Status, Labels: a.Labels, StartsAt: starts}}}, nil
}

package postmortem

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/incident"
)

func TestParseTemplateErrorLine(t *testing.T) {
	_, err := ParseTemplate("payments.md", "# {{.Incident.Title}}\n\nok\n{{if .Team}}\nunclosed\n")
	var te *TemplateError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
	if te.Name != "payments.md" || te.Line == 0 {
		t.Errorf("error = %+v", te)
	}
	_, err = ParseTemplate("x.md", "line1\n{{.Incident.Title | nosuchfunc}}\n")
	if !errors.As(err, &te) || te.Line != 2 || !strings.Contains(te.Message, "nosuchfunc") {
		t.Errorf("error = %v", err)
	}
}

func TestRenderFailureIsMarked(t *testing.T) {
	tmpl, err := ParseTemplate("team.md", "# {{.Incident.Title}}\n{{index .Extra \"chat\" | printf \"%s\"}}\n{{.Incident.Nope}}\n")
	if err == nil {
		// .Incident.Nope is a field of a struct: a parse-time-unknown, run-time error.
		md, rerr := Render(tmpl, Data{Incident: IncidentData{ID: 7, Title: "DB down", Severity: "sev1", Services: []string{"db"}}})
		if rerr == nil {
			t.Fatal("no render error")
		}
		if !strings.HasPrefix(md, "> **Template error:**") || !strings.Contains(md, "team.md") || !strings.Contains(md, "# Postmortem: DB down") {
			t.Errorf("markdown:\n%s", md)
		}
		return
	}
	t.Fatalf("parse: %v", err)
}

func TestCustomTemplateExtra(t *testing.T) {
	tmpl, err := ParseTemplate("payments.md", "{{.Incident.Title}} rated {{.Extra.severity_rating}} by {{.Team}}; TTR {{duration .Metrics.TimeToResolve}}")
	if err != nil {
		t.Fatal(err)
	}
	md, err := Render(tmpl, Data{Incident: IncidentData{Title: "X"}, Team: "payments", Extra: map[string]string{"severity_rating": "high"}, Metrics: Metrics{TimeToResolve: 65 * time.Minute}})
	if err != nil || md != "X rated high by payments; TTR 1h 05m" {
		t.Errorf("%q %v", md, err)
	}
}

func TestHumanDurationAndMoney(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 45 * time.Second: "45s", 12*time.Minute + 30*time.Second: "12m 30s", 31 * time.Minute: "31m", 26 * time.Hour: "26h 00m"} {
		if got := HumanDuration(d); got != want {
			t.Errorf("%v = %q, want %q", d, got, want)
		}
	}
	if got := commas(1234567.5); got != "1,234,567.50" {
		t.Errorf("commas = %q", got)
	}
	if got := commas(420); got != "420" {
		t.Errorf("commas = %q", got)
	}
}

func TestBuildDataImpact(t *testing.T) {
	// Revenue from the incident wins over the per-minute estimate.
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	res := start.Add(90 * time.Minute)
	in := Inputs{RevenuePerMinute: map[string]float64{"a": 10, "b": 5}}
	in.Incident.Services = []string{"a", "b"}
	in.Incident.StartedAt, in.Incident.DetectedAt, in.Incident.ResolvedAt = start, start.Add(4*time.Minute), &res
	d := BuildData(in)
	// 90 min x (10+5)/min = 1350; TTD 4m; TTR 90m; no ack.
	if d.Impact.RevenueLoss != 1350 || d.Impact.RevenueSource != "revenue_per_minute" || d.Metrics.TimeToDetect != 4*time.Minute ||
		d.Metrics.TimeToResolve != 90*time.Minute || d.Metrics.TimeToAcknowledge != 0 || d.Impact.DowntimeMinutes != 90 {
		t.Errorf("data = %+v", d)
	}
	in.Incident.Impact.RevenueEstimate = 999
	if d := BuildData(in); d.Impact.RevenueLoss != 999 || d.Impact.RevenueSource != "incident" {
		t.Errorf("incident estimate: %+v", d.Impact)
	}
}

// FuzzTemplate checks that any template text either fails to parse with a
// located error or renders (possibly with a marked failure) without
// panicking.
func FuzzTemplate(f *testing.F) {
	f.Add(DefaultTemplateText())
	f.Add("{{.Incident.Title}} {{duration .Metrics.TimeToDetect}} {{money .Impact.RevenueLoss}}")
	f.Add("{{range .Timeline}}{{clock .At}}{{end}}{{.Extra.x}}")
	d := Data{Incident: IncidentData{ID: 1, Title: "t", Services: []string{"a"}}, Timeline: []TimelineEntry{{Kind: "page"}}, Extra: map[string]string{"x": "y"}}
	f.Fuzz(func(t *testing.T, text string) {
		tmpl, err := ParseTemplate("f.md", text)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		md, rerr := Render(tmpl, d)
		if rerr != nil && !strings.HasPrefix(md, "> **Template error:**") {
			t.Fatalf("failure not marked: %q", md)
		}
	})
}

// TestDraftHasStatusUpdatesAndChannel: the default draft lists the status
// updates posted during the incident and links its Slack channel's
// history.
func TestDraftHasStatusUpdatesAndChannel(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	d := BuildData(Inputs{
		Incident: incident.Incident{ID: 12, Title: "Checkout down", Severity: "sev1", Services: []string{"checkout"}, StartedAt: at,
			Links: map[string]string{"slack_channel": "https://example.slack.com/archives/C0123ABCD"}},
		Events: []incident.Event{{ID: 5, At: at.Add(10 * time.Minute), Kind: incident.EvStatusUpdate, Actor: "alice",
			Message: "identified: a bad deploy", Data: map[string]any{"status": "identified", "message": "a bad deploy"}}},
		Now: at.Add(time.Hour),
	})
	md, err := Render(DefaultTemplate(), d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Status updates\n\n- 2026-03-02 08:10:00 **identified** (alice): a bad deploy",
		"## Links\n\n- Incident channel (Slack history): https://example.slack.com/archives/C0123ABCD",
		"**status_update** (alice): identified: a bad deploy"} {
		if !strings.Contains(md, want) {
			t.Errorf("draft lacks %q:\n%s", want, md)
		}
	}
}

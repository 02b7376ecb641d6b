package app_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/demo"
	"github.com/tandemhq/tandem/internal/engine"
)

var update = flag.Bool("update", false, "rewrite the generated parts of docs/operations.md")

// metricDoc is one row of the /metrics catalogue.
type metricDoc struct {
	name, typ, help string
	labels          []string
	// fromConfig marks labels that the config decides (read from the
	// samples of examples/tandem.d).
	fromConfig bool
}

// descRe reads what prometheus.Desc.String prints.
var descRe = regexp.MustCompile(`^Desc\{fqName: ("(?:[^"\\]|\\.)*"), help: ("(?:[^"\\]|\\.)*"), unit: "[^"]*", constLabels: \{([^}]*)\}, variableLabels: \{([^}]*)\}\}$`)

// catalogue starts a server on the demo's history, makes it do some of
// everything (a request, the due jobs, an SLO evaluation) so that every
// metric has samples, and returns tandem's own metrics: each registered
// descriptor with the type its samples have. A descriptor without
// samples is a problem: the test must exercise it.
func catalogue(t *testing.T) ([]metricDoc, []string) {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	s := apptest.Start(t, apptest.Options{Manual: true, Clock: clk, Quiet: true})
	if err := demo.Seed(ctx, s.Main, clk.Now(), 14); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.Main.Engine.Register("catalogue.test", func(context.Context, engine.Job) error { return nil })
	if err := s.Main.DB.InTx(ctx, func(tx *db.Tx) error {
		_, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: "catalogue.test", Key: "catalogue.test/1", RunAt: clk.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if _, err := s.Main.Engine.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Main.API.SLO.Service.EvaluateOnce(ctx, clk.Now()); err != nil {
		t.Logf("evaluation: %v", err)
	}
	types := map[string]string{}
	fams, err := s.Main.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		types[f.GetName()] = strings.ToLower(dto.MetricType_name[int32(f.GetType())])
	}
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		s.Main.Registry.Describe(ch)
		close(ch)
	}()
	seen := map[string]bool{}
	var out []metricDoc
	var problems []string
	for d := range ch {
		m := descRe.FindStringSubmatch(d.String())
		if m == nil {
			problems = append(problems, "unreadable descriptor "+d.String())
			continue
		}
		name, _ := strconv.Unquote(m[1])
		help, _ := strconv.Unquote(m[2])
		if !strings.HasPrefix(name, "tandem_") || seen[name] {
			continue
		}
		seen[name] = true
		var labels []string
		for _, l := range strings.Split(m[4], ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
		for _, l := range strings.Split(m[3], ",") {
			if k, _, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
				labels = append(labels, k)
			}
		}
		typ, ok := types[name]
		if !ok {
			problems = append(problems, name+": no samples; make the catalogue test exercise it")
			continue
		}
		out = append(out, metricDoc{name: name, typ: typ, help: help, labels: labels})
	}
	// Collectors whose labels come from the config describe nothing up
	// front; their families are read from the samples.
	for _, f := range fams {
		name := f.GetName()
		if !strings.HasPrefix(name, "tandem_") || seen[name] {
			continue
		}
		seen[name] = true
		var labels []string
		if len(f.GetMetric()) > 0 {
			for _, lp := range f.GetMetric()[0].GetLabel() {
				labels = append(labels, lp.GetName())
			}
		}
		out = append(out, metricDoc{name: name, typ: types[name], help: f.GetHelp(), labels: labels, fromConfig: true})
	}
	slices.SortFunc(out, func(a, b metricDoc) int { return strings.Compare(a.name, b.name) })
	return out, problems
}

// renderCatalogue writes the catalogue as a Markdown table.
func renderCatalogue(ms []metricDoc) string {
	var b strings.Builder
	b.WriteString("| metric | type | labels | meaning |\n|---|---|---|---|\n")
	for _, m := range ms {
		labels := "—"
		if len(m.labels) > 0 {
			labels = "`" + strings.Join(m.labels, "`, `") + "`"
		}
		if m.fromConfig {
			labels += " (as examples/tandem.d gives them; they follow the config)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", m.name, m.typ, labels, strings.ReplaceAll(m.help, "|", `\|`))
	}
	b.WriteString("\nPlus the Go runtime (`go_*`) and process (`process_*`) series of the Prometheus Go client.\n")
	return b.String()
}

const (
	metricsBegin = "<!-- metrics:begin"
	metricsEnd   = "<!-- metrics:end -->"
)

// withCatalogue returns doc with the generated region replaced by part.
func withCatalogue(doc, part string) (string, error) {
	i := strings.Index(doc, metricsBegin)
	j := strings.Index(doc, metricsEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("docs/operations.md has no %s … %s region", metricsBegin, metricsEnd)
	}
	k := strings.Index(doc[i:], "-->")
	start := i + k + len("-->") + 1
	return doc[:start] + part + doc[j:], nil
}

func operationsMD(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join("..", "..", "docs", "operations.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(b)
}

// The /metrics catalogue in docs/operations.md is generated from the
// registered collectors (name, type, labels, help); the test fails when it
// is stale, and -update rewrites it.
func TestMetricsCatalogue(t *testing.T) {
	ms, problems := catalogue(t)
	for _, p := range problems {
		t.Error(p)
	}
	for _, m := range ms {
		if m.help == "" {
			t.Errorf("%s has no help text", m.name)
		}
	}
	path, doc := operationsMD(t)
	want, err := withCatalogue(doc, renderCatalogue(ms))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != doc {
		t.Errorf("the /metrics catalogue in docs/operations.md is stale; run go test ./internal/app -run TestMetricsCatalogue -update")
	}
}

// The freshness check catches a metric added, a help text changed and a
// generated line edited by hand.
func TestMetricsCatalogueDetectsDrift(t *testing.T) {
	ms := []metricDoc{{name: "tandem_a", typ: "gauge", help: "A."}, {name: "tandem_b", typ: "counter", help: "B.", labels: []string{"kind"}}}
	doc := "x\n" + metricsBegin + " (generated) -->\n" + metricsEnd + "\ny\n"
	cur, err := withCatalogue(doc, renderCatalogue(ms))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := withCatalogue(cur, renderCatalogue(ms)); again != cur {
		t.Fatal("regenerating a current file changes it")
	}
	for name, changed := range map[string][]metricDoc{
		"added":   append(slices.Clone(ms), metricDoc{name: "tandem_c", typ: "gauge", help: "C."}),
		"help":    {ms[0], {name: "tandem_b", typ: "counter", help: "B changed.", labels: []string{"kind"}}},
		"labels":  {ms[0], {name: "tandem_b", typ: "counter", help: "B."}},
		"removed": ms[:1],
	} {
		if again, _ := withCatalogue(cur, renderCatalogue(changed)); again == cur {
			t.Errorf("%s: the file stays current", name)
		}
	}
	edited := strings.Replace(cur, "| `tandem_a` | gauge |", "| `tandem_a` | counter |", 1)
	if again, _ := withCatalogue(edited, renderCatalogue(ms)); again == edited {
		t.Error("a hand-edited line stays current")
	}
}

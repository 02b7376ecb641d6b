package postmortem

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkRender renders the default template for an incident with a
// 200-line timeline and 20 changes.
func BenchmarkRender(b *testing.B) {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	d := Data{Incident: IncidentData{ID: 1, Title: "x", Severity: "sev1", Services: []string{"a"}, StartedAt: t0, ResolvedAt: t0.Add(time.Hour)}}
	for i := 0; i < 200; i++ {
		d.Timeline = append(d.Timeline, TimelineEntry{At: t0.Add(time.Duration(i) * time.Minute), Kind: "page", Message: fmt.Sprintf("paged p%d", i)})
	}
	for i := 0; i < 20; i++ {
		d.Deploys = append(d.Deploys, Change{Service: "a", Kind: "deploy", Version: fmt.Sprint(i), At: t0})
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Render(DefaultTemplate(), d); err != nil {
			b.Fatal(err)
		}
	}
}

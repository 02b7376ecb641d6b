package chaos

import (
	"os"
	"path/filepath"
	"testing"
)

func seed(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkReports holds what every parser promises of what it accepts.
func checkReports(t *testing.T, rs []Report) {
	for _, r := range rs {
		if r.ExternalID == "" || r.StartedAt.IsZero() || r.ToolVerdict == "" {
			t.Fatalf("accepted a report without identity, start or verdict: %+v", r)
		}
		if !r.FinishedAt.IsZero() && r.FinishedAt.Before(r.StartedAt) {
			t.Fatalf("finish before start: %+v", r)
		}
	}
}

func FuzzParseLitmus(f *testing.F) {
	seed(f, "litmus-chaosresult-list.json", "litmus-chaosengine.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseLitmus(b)
		if err == nil {
			checkReports(t, rs)
		}
	})
}

func FuzzParseChaosMesh(f *testing.F) {
	seed(f, "chaosmesh-events.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseChaosMesh(b)
		if err == nil {
			checkReports(t, rs)
		}
	})
}

func FuzzParseGremlin(f *testing.F) {
	seed(f, "gremlin-running.json", "gremlin-finished-halted.json", "gremlin-finished-successful.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseGremlin(b)
		if err == nil {
			checkReports(t, rs)
		}
	})
}

// FuzzParse detects the format of anything.
func FuzzParse(f *testing.F) {
	seed(f, "litmus-chaosresult-list.json", "chaosmesh-events.json", "gremlin-running.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := Parse("", b)
		if err == nil {
			checkReports(t, rs)
		}
	})
}

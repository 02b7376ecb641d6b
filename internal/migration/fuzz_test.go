package migration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseName: any file name either parses into a name that round-trips
// its kind and version, or is a *NameError; never a panic.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"V1__init.sql", "V1_1__x.sql", "U2.0__undo.sql", "R__view.sql", "V__x.sql",
		"V1.__x.sql", "v1__x.sql", "V1_x.sql", "V99999999999999999999999__big.sql", "R1__x.sql", ".sql", "V1__.sql"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseName(s)
		if err != nil {
			if _, ok := err.(*NameError); !ok {
				t.Fatalf("error %T, want *NameError", err)
			}
			return
		}
		if n.Script != s || !strings.HasSuffix(s, ".sql") || !strings.HasPrefix(s, string(n.Kind)) {
			t.Fatalf("parsed %q as %+v", s, n)
		}
		if n.Kind != Repeatable {
			v, err := ParseVersion(n.Version)
			if err != nil || v.Compare(n.VersionKey()) != 0 {
				t.Fatalf("version %q does not round-trip: %v", n.Version, err)
			}
		}
	})
}

// FuzzAnalyze: the classifier never panics, and every finding has a known
// rule or check, a position inside the input, and the rule's text.
func FuzzAnalyze(f *testing.F) {
	entries, _ := os.ReadDir("testdata/rules")
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join("testdata/rules", e.Name()))
		f.Add(b)
	}
	for _, s := range []string{"", "SELEC", "-- tandem:allow drop-table x\nDROP TABLE t;", "${x}", "/* unterminated",
		"ALTER TABLE t ADD COLUMN c int DEFAULT random();", "\xef\xbb\xbf", "SELECT 'é' FROM FROM", "BEGIN; CREATE INDEX CONCURRENTLY i ON t(c);"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a := Analyze(b)
		lines := strings.Count(string(b), "\n") + 1
		for _, fd := range a.Findings {
			r, ok := ruleOrCheck(fd.Rule)
			if !ok {
				t.Fatalf("unknown rule %q", fd.Rule)
			}
			if fd.Line < 1 || fd.Line > lines || fd.Column < 1 {
				t.Fatalf("finding %s at %d:%d outside %d lines", fd.Rule, fd.Line, fd.Column, lines)
			}
			if fd.Why != r.Why || fd.Class != r.Class {
				t.Fatalf("finding %+v does not carry its rule's text", fd)
			}
		}
	})
}

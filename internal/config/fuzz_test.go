package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: no input makes the loader panic or hang, and every rejection
// is a list of located errors.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/catalog/*.yaml")
	ex, _ := filepath.Glob("../../examples/tandem.d/*.yaml")
	for _, p := range append(files, ex...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("services: &s [*s]\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("apiVersion: openslo/v1\nkind: SLO\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(map[string][]byte{"f.yaml": b}, now)
		if err == nil {
			if cfg == nil || cfg.Catalog == nil {
				t.Fatal("nil config without an error")
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error is not a non-empty Errors: %T %v", err, err)
		}
		for _, e := range errs {
			if e.File != "f.yaml" || e.Message == "" {
				t.Fatalf("error without file or message: %+v", e)
			}
		}
	})
}

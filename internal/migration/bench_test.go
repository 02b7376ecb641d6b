package migration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// thousandFiles writes 1,000 migrations into dir, cycling through the rule
// and safe test files (about 5 statements each on average).
func thousandFiles(b *testing.B, dir string) {
	b.Helper()
	var bodies [][]byte
	for _, src := range []string{"testdata/rules", "testdata/safe"} {
		entries, err := os.ReadDir(src)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range entries {
			body, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, body)
		}
	}
	for i := 0; i < 1000; i++ {
		name := filepath.Join(dir, fmt.Sprintf("V%d__migration_%d.sql", i+1, i+1))
		if err := os.WriteFile(name, bodies[i%len(bodies)], 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLintDir1000 is `tandem migrate lint` over 1,000 files: read,
// parse with libpg_query, classify, decide. Target: under 1 s per op.
func BenchmarkLintDir1000(b *testing.B) {
	dir := b.TempDir()
	thousandFiles(b, dir)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := LintDir(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Files) != 1000 {
			b.Fatalf("%d files", len(rep.Files))
		}
	}
}

// BenchmarkAnalyze is the classifier on one typical file.
func BenchmarkAnalyze(b *testing.B) {
	body, err := os.ReadFile("testdata/safe/V1__create_users_and_orders.sql")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		Analyze(body)
	}
}

package db_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/db"
)

var (
	placeholder = regexp.MustCompile(`\$\d+`)
	numbered    = regexp.MustCompile(`\?\d`)
)

// FuzzRebind: Rebind never panics, leaves SQLite queries alone, and for
// PostgreSQL only turns some ? into $1, $2, … in order.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{"SELECT ?", "SELECT '?', ?", "-- ?\n?", "/* ? */ ?", `"a?" ?`, "'", "/*", "--", "'it''s' ?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if got := db.SQLite.Rebind(q); got != q {
			t.Fatalf("SQLite changed %q", q)
		}
		got := db.Postgres.Rebind(q)
		if strings.Contains(q, "$") || numbered.MatchString(q) {
			// The inverse check below cannot tell old $ from new ones; ?NNN
			// is SQLite's numbered parameter, which portable SQL never uses.
			return
		}
		nums := placeholder.FindAllString(got, -1)
		for i, n := range nums {
			if n != "$"+strconv.Itoa(i+1) {
				t.Fatalf("Rebind(%q) = %q: placeholder %d is %s", q, got, i+1, n)
			}
		}
		if back := placeholder.ReplaceAllString(got, "?"); back != q {
			t.Fatalf("Rebind(%q) = %q changed more than placeholders", q, got)
		}
		if strings.Count(q, "?") < len(nums) {
			t.Fatalf("Rebind(%q) made more placeholders than there are ?", q)
		}
	})
}

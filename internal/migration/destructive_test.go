package migration

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/testenv"
)

// TestDestructiveChanges: the migration gate's destructive changes are
// the destructive rules' findings (accepted by the lint or not), the
// rewrite and type-change rules', and files that cannot be judged; undo
// scripts and safe or merely risky files hold none.
func TestDestructiveChanges(t *testing.T) {
	files := []File{
		{Path: "V1__create.sql", Content: []byte("CREATE TABLE orders (id bigint PRIMARY KEY, note text, total numeric);")},
		{Path: "V2__index.sql", Content: []byte("CREATE INDEX orders_note ON orders (note);")},
		{Path: "V3__drop_note.sql", Content: []byte("SET lock_timeout = '2s';\nALTER TABLE orders DROP COLUMN note;")},
		{Path: "U3__drop_note.sql", Content: []byte("ALTER TABLE orders ADD COLUMN note text;")},
		{Path: "V4__total_type.sql", Content: []byte("SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN total TYPE bigint;")},
		{Path: "V5__purge.sql", Content: []byte("-- tandem:allow truncate the table is a cache\nSET lock_timeout = '2s';\nTRUNCATE orders;")},
		{Path: "V6__broken.sql", Content: []byte("ALTER TABLE orders DROPP COLUMN note;")},
		{Path: "notes.sql", Content: []byte("SELECT 1;")},
	}
	var got []string
	for _, c := range Lint(files, Options{}).DestructiveChanges() {
		got = append(got, c.File+" "+c.Rule+" undo="+c.Undo)
	}
	want := []string{
		"V3__drop_note.sql drop-column undo=U3__drop_note.sql",
		"V4__total_type.sql change-column-type undo=",
		"V5__purge.sql truncate undo=",
		"V6__broken.sql syntax-error undo=",
		"notes.sql file-name undo=",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("destructive changes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, id := range RewriteRules {
		r, ok := RuleByID(id)
		if !ok || r.Class != Risky {
			t.Errorf("rewrite rule %s: %+v %v (the destructive class counts by itself)", id, r, ok)
		}
	}
}

// TestDocsDestructiveList: docs/migrations.md lists the rules the gate
// treats as destructive, exactly.
func TestDocsDestructiveList(t *testing.T) {
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, "<!-- gate-destructive:begin -->"), strings.Index(s, "<!-- gate-destructive:end -->")
	if i < 0 || j < i {
		t.Fatal("docs/migrations.md has no gate-destructive section")
	}
	var doc []string
	for _, m := range regexp.MustCompile("`([a-z-]+)`").FindAllStringSubmatch(s[i:j], -1) {
		doc = append(doc, m[1])
	}
	var want []string
	for _, r := range Rules {
		if GateDestructive(r.ID) {
			want = append(want, r.ID)
		}
	}
	slices.Sort(doc)
	slices.Sort(want)
	if !slices.Equal(doc, want) {
		t.Errorf("docs list %v, the gate holds %v", doc, want)
	}
}

// TestStopBackends runs against the real PostgreSQL: a psql whose client
// is killed leaves its pg_sleep running until StopBackends cancels it; a
// session that stays open (an idle client) is ended after the grace.
// Sessions of other application names are left alone.
func TestStopBackends(t *testing.T) {
	psql := testenv.Binary(t, "TANDEM_TEST_PSQL", "psql")
	target := dbtest.PostgresURL(t)
	const app = AppNamePrefix + "test1"
	ctx := context.Background()
	d, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	count := func(name, state string) int {
		t.Helper()
		var n int
		if err := d.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND ($2 = '' OR state = $2)`, name, state).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cmd := exec.Command(psql, target, "-c", "select pg_sleep(60)")
	cmd.Env = append(os.Environ(), "PGAPPNAME="+app)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// An idle session of the same run, and one of another program.
	idle, other := withAppName(t, target, app), withAppName(t, target, "someone-else")
	for deadline := time.Now().Add(10 * time.Second); count(app, "active") == 0; {
		if time.Now().After(deadline) {
			t.Fatal("psql's pg_sleep never showed up in pg_stat_activity")
		}
		tm := time.NewTimer(20 * time.Millisecond) // a real server: nothing to wait on
		<-tm.C
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if n := count(app, "active"); n != 1 {
		t.Fatalf("after killing psql %d active backends, want the sleeping one still there", n)
	}
	got, err := StopBackends(ctx, target, app, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cancelled != 1 || got.Terminated != 1 {
		t.Errorf("stopped %+v, want the query cancelled and the idle session ended", got)
	}
	if n := count(app, ""); n != 0 {
		t.Errorf("%d sessions of %s left", n, app)
	}
	if err := idle.PingContext(ctx); err == nil {
		t.Error("the idle session of the run is still usable")
	}
	if err := other.PingContext(ctx); err != nil {
		t.Errorf("another program's session was touched: %v", err)
	}
}

// withAppName opens one connection with the given application_name.
func withAppName(t *testing.T, target, app string) *sql.Conn {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	d, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c, err := d.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

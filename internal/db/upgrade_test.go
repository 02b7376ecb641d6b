package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// eachOptions runs fn on a fresh, unmigrated database of each engine.
func eachOptions(t *testing.T, fn func(t *testing.T, opts db.Options)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, db.Options{DataDir: t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) { fn(t, db.Options{URL: dbtest.PostgresURL(t), MaxOpenConns: 4}) })
}

// A release may bring a migration numbered below one the database already
// has (numbers are handed out in ranges): the upgrade applies it instead
// of refusing to start.
func TestUpgradeAppliesOutOfOrder(t *testing.T) {
	eachOptions(t, func(t *testing.T, opts db.Options) {
		ctx := context.Background()
		old, err := db.OpenWithout(ctx, opts, 810)
		if err != nil {
			t.Fatal(err)
		}
		old.Close()
		d, err := db.Open(ctx, opts)
		if err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		defer d.Close()
		if _, err := d.Exec(ctx, "INSERT INTO slo_alert_holds (slo, severity, cond, since_ms) VALUES ('a', 'page', 'c', 1)"); err != nil {
			t.Fatalf("the skipped migration was not applied: %v", err)
		}
	})
}

// Incidents stored before incident_services existed get their rows from
// the JSON array when the migration runs, on both engines.
func TestIncidentServicesBackfill(t *testing.T) {
	eachOptions(t, func(t *testing.T, opts db.Options) {
		ctx := context.Background()
		old, err := db.OpenWithout(ctx, opts, 840)
		if err != nil {
			t.Fatal(err)
		}
		for i, services := range []string{`["node_exporter","api"]`, `["checkout"]`, `[]`} {
			if _, err := old.Exec(ctx, `INSERT INTO incidents (id, title, services, severity, status, triggered_at, started_at, detected_at, updated_at)
				VALUES (?, 't', ?, 'sev2', 'triggered', 1, 1, 1, 1)`, i+1, services); err != nil {
				t.Fatal(err)
			}
		}
		old.Close()
		d, err := db.Open(ctx, opts)
		if err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		defer d.Close()
		rows, err := d.Query(ctx, "SELECT incident_id, service FROM incident_services ORDER BY incident_id, service")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var id int64
			var s string
			if err := rows.Scan(&id, &s); err != nil {
				t.Fatal(err)
			}
			got = append(got, string(rune('0'+id))+":"+s)
		}
		want := []string{"1:api", "1:node_exporter", "2:checkout"}
		if len(got) != len(want) {
			t.Fatalf("incident_services = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("incident_services = %v, want %v", got, want)
			}
		}
	})
}

// A binary older than the database's schema refuses to start instead of
// writing to a schema it does not know, and names the migration; the
// database is left as it was.
func TestOlderBinaryRefusesNewerSchema(t *testing.T) {
	eachOptions(t, func(t *testing.T, opts db.Options) {
		ctx := context.Background()
		d, err := db.Open(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, ?)", true); err != nil {
			t.Fatal(err)
		}
		d.Close()
		d, err = db.Open(ctx, opts)
		if err == nil {
			d.Close()
			t.Fatal("opened a database migrated by a newer release")
		}
		if !strings.Contains(err.Error(), "99999") || !strings.Contains(err.Error(), "newer release") {
			t.Errorf("error %q does not name the unknown migration", err)
		}
	})
}

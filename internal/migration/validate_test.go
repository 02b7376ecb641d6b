package migration

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db/dbtest"
)

func TestChecksum(t *testing.T) {
	// Expected values: CRC-32/IEEE of the bytes without \r, \n and a leading
	// BOM (computed independently with Python's zlib.crc32), as int32:
	// 0xD5857346 = 3582292806 is -712674490 as a signed 32-bit integer.
	cases := []struct {
		in   string
		want int32
	}{
		{"", 0},
		{"SELECT 1;", 78787420},
		{"SELECT 1;\n", 78787420},
		{"\xef\xbb\xbfSELECT 1;", 78787420},
		{"CREATE TABLE a (id bigint);\nINSERT INTO a VALUES (1);\n", 978588365},
		{"CREATE TABLE a (id bigint);\r\nINSERT INTO a VALUES (1);\r\n", 978588365},
		{"CREATE TABLE a (id bigint);\rINSERT INTO a VALUES (1);", 978588365},
		{"ALTER TABLE users ADD COLUMN c int;", -712674490},
		{"a", -390611389},
	}
	for _, c := range cases {
		if got := Checksum([]byte(c.in)); got != c.want {
			t.Errorf("Checksum(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func ptr(v int32) *int32 { return &v }

func TestValidate(t *testing.T) {
	v1 := []byte("CREATE TABLE a (id bigint);\n")
	v2 := []byte("ALTER TABLE a ADD COLUMN b text;\n")
	v3 := []byte("CREATE INDEX CONCURRENTLY a_b ON a (b);\n")
	view := []byte("CREATE OR REPLACE VIEW v AS SELECT 1;\n")
	files := []File{{"V1__create_a.sql", v1}, {"V2__add_b.sql", v2}, {"V3__index_b.sql", v3}, {"R__view.sql", view}, {"U2__add_b.sql", []byte("x")}}
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	row := func(rank int, version, desc, script string, sum *int32, ok bool) Applied {
		typ := "SQL"
		return Applied{InstalledRank: rank, Version: version, Description: desc, Type: typ, Script: script, Checksum: sum, Success: ok, InstalledOn: at}
	}
	kinds := func(v Validation) []string {
		var out []string
		for _, i := range v.Issues {
			out = append(out, i.Kind+" "+i.Version+" "+i.Script)
		}
		return out
	}
	cases := []struct {
		name    string
		files   []File
		history []Applied
		want    []string
		passed  bool
		applied int
		pending int
	}{
		{"empty database: all pending", files, nil,
			[]string{"pending 1 V1__create_a.sql", "pending 2 V2__add_b.sql", "pending 3 V3__index_b.sql", "pending  R__view.sql"}, true, 0, 4},
		{"all applied", files, []Applied{
			row(1, "1", "create a", "V1__create_a.sql", ptr(Checksum(v1)), true),
			row(2, "2", "add b", "V2__add_b.sql", ptr(Checksum(v2)), true),
			row(3, "3", "index b", "V3__index_b.sql", ptr(Checksum(v3)), true),
			row(4, "", "view", "R__view.sql", ptr(Checksum(view)), true),
		}, nil, true, 3, 0},
		{"checksum changed, failed, missing", files, []Applied{
			row(1, "1", "create a", "V1__create_a.sql", ptr(Checksum(v1)+1), true),
			row(2, "2", "add b", "V2__add_b.sql", ptr(Checksum(v2)), false),
			row(3, "2.5", "gone", "V2_5__gone.sql", ptr(7), true),
			row(4, "", "view", "R__view.sql", ptr(1), true),
		}, []string{"checksum-changed 1 V1__create_a.sql", "failed 2 V2__add_b.sql", "applied-missing 2.5 V2_5__gone.sql",
			"pending 3 V3__index_b.sql", "repeatable-changed  R__view.sql"}, false, 1, 2},
		{"out of order and renamed", files, []Applied{
			row(1, "1", "create the a table", "V1__create_the_a_table.sql", ptr(Checksum(v1)), true),
			row(2, "3", "index b", "V3__index_b.sql", ptr(Checksum(v3)), true),
		}, []string{"description-changed 1 V1__create_a.sql", "pending-out-of-order 2 V2__add_b.sql", "pending  R__view.sql"}, false, 2, 2},
		{"failed then retried successfully", files[:1], []Applied{
			row(1, "1", "create a", "V1__create_a.sql", ptr(Checksum(v1)), false),
			row(2, "1", "create a", "V1__create_a.sql", ptr(Checksum(v1)), true),
		}, nil, true, 1, 0},
		{"undone version is pending again", files[:2], []Applied{
			row(1, "1", "create a", "V1__create_a.sql", ptr(Checksum(v1)), true),
			row(2, "2", "add b", "V2__add_b.sql", ptr(Checksum(v2)), true),
			{InstalledRank: 3, Version: "2", Description: "add b", Type: "UNDO_SQL", Script: "U2__add_b.sql", Success: true},
		}, []string{"pending 2 V2__add_b.sql"}, true, 1, 1},
		{"baseline covers older files", files[:3], []Applied{
			{InstalledRank: 1, Version: "2", Description: "<< Flyway Baseline >>", Type: "BASELINE", Script: "<< Flyway Baseline >>", Success: true},
		}, []string{"pending 3 V3__index_b.sql"}, true, 0, 1},
		{"version 1.0 in the history matches file V1", []File{{"V1__create_a.sql", v1}}, []Applied{
			row(1, "1.0", "create a", "V1__create_a.sql", ptr(Checksum(v1)), true),
		}, nil, true, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Validate(c.files, c.history)
			if k := kinds(got); !reflect.DeepEqual(k, c.want) {
				t.Errorf("issues\n got %q\nwant %q", k, c.want)
			}
			if got.Passed() != c.passed || got.Applied != c.applied || got.Pending != c.pending {
				t.Errorf("passed %v applied %d pending %d, want %v %d %d", got.Passed(), got.Applied, got.Pending, c.passed, c.applied, c.pending)
			}
		})
	}
}

// flywayDDL creates flyway_schema_history exactly as Flyway does on
// PostgreSQL (its createMetaDataTable.sql).
const flywayDDL = `
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
`

// TestValidatePostgres reads a real flyway_schema_history written the way
// Flyway writes it and validates testdata/safe against it.
func TestValidatePostgres(t *testing.T) {
	url := dbtest.PostgresURL(t)
	ctx := context.Background()
	d, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ExecContext(ctx, flywayDDL); err != nil {
		t.Fatal(err)
	}
	files, err := ReadDir("testdata/safe")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]byte{}
	for _, f := range files {
		byName[f.Path] = f.Content
	}
	insert := func(rank int, version any, desc, script string, checksum int32, success bool) {
		t.Helper()
		_, err := d.ExecContext(ctx, `INSERT INTO flyway_schema_history
			(installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
			VALUES ($1, $2, $3, 'SQL', $4, $5, 'postgres', 42, $6)`, rank, version, desc, script, checksum, success)
		if err != nil {
			t.Fatal(err)
		}
	}
	insert(1, "1", "create users and orders", "V1__create_users_and_orders.sql", Checksum(byName["V1__create_users_and_orders.sql"]), true)
	insert(2, "1.1", "add order status", "V1_1__add_order_status.sql", Checksum(byName["V1_1__add_order_status.sql"])^1, true) // edited after
	insert(3, "2", "index order status", "V2__index_order_status.sql", Checksum(byName["V2__index_order_status.sql"]), false)  // failed
	insert(4, "2.7", "removed", "V2_7__removed.sql", 12345, true)                                                              // file deleted
	insert(5, nil, "active users view", "R__active_users_view.sql", Checksum(byName["R__active_users_view.sql"]), true)

	hist, err := ReadHistory(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 5 || hist[0].ExecutionMs != 42 || hist[4].Version != "" || hist[0].InstalledOn.IsZero() {
		t.Fatalf("history %+v", hist)
	}
	v := Validate(files, hist)
	var got []string
	for _, i := range v.Issues {
		got = append(got, i.Kind+" "+i.Version)
	}
	want := []string{"checksum-changed 1.1", "failed 2", "applied-missing 2.7",
		"pending 3", "pending 4", "pending 5", "pending 6", "pending 7", "pending 8"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("issues\n got %q\nwant %q", got, want)
	}
	if v.Passed() {
		t.Error("validation passed")
	}

	if _, err := ReadHistory(ctx, url, "public.flyway_schema_history"); err != nil {
		t.Errorf("schema-qualified table: %v", err)
	}
	if _, err := ReadHistory(ctx, url, `x"; DROP TABLE y; --`); err == nil {
		t.Error("an injected table name was accepted")
	}
	if _, err := ReadHistory(ctx, url, "no_such_table"); err == nil {
		t.Error("a missing table was not an error")
	}
}

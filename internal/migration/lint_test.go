package migration

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and the rule table of docs/migrations.md")

const docsPath = "../../docs/migrations.md"

// docRule is one row of the rule table in docs/migrations.md.
type docRule struct{ id, class, why, alt string }

var docRow = regexp.MustCompile("^\\| `([a-z0-9-]+)` \\| (safe|risky|destructive) \\| (.*) \\| (.*) \\|$")

// readDocRules parses the rule table between the rules:begin/end markers.
func readDocRules(t *testing.T) []docRule {
	t.Helper()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	begin, end := strings.Index(s, "<!-- rules:begin -->"), strings.Index(s, "<!-- rules:end -->")
	if begin < 0 || end < begin {
		t.Fatal("docs/migrations.md: rules:begin/rules:end markers missing")
	}
	var out []docRule
	for _, line := range strings.Split(s[begin:end], "\n") {
		if m := docRow.FindStringSubmatch(line); m != nil {
			out = append(out, docRule{m[1], m[2], unescapeCell(m[3]), unescapeCell(m[4])})
		}
	}
	return out
}

func escapeCell(s string) string   { return strings.ReplaceAll(s, "|", `\|`) }
func unescapeCell(s string) string { return strings.ReplaceAll(s, `\|`, "|") }

func ruleTable() string {
	var b strings.Builder
	b.WriteString("<!-- rules:begin -->\n| rule | class | why it is dangerous | safe alternative |\n|---|---|---|---|\n")
	for _, r := range Rules {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.ID, r.Class, escapeCell(r.Why), escapeCell(r.Alternative))
	}
	b.WriteString("<!-- rules:end -->")
	return b.String()
}

// TestDocsRuleTable checks that docs/migrations.md lists exactly the rules
// of the registry, with the same class and text (-update rewrites it).
func TestDocsRuleTable(t *testing.T) {
	if *update {
		b, err := os.ReadFile(docsPath)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		begin, end := strings.Index(s, "<!-- rules:begin -->"), strings.Index(s, "<!-- rules:end -->")
		s = s[:begin] + ruleTable() + s[end+len("<!-- rules:end -->"):]
		if err := os.WriteFile(docsPath, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc := readDocRules(t)
	if len(doc) != len(Rules) {
		t.Fatalf("docs/migrations.md lists %d rules, the registry has %d (run go test -run TestDocsRuleTable -update)", len(doc), len(Rules))
	}
	for i, r := range Rules {
		d := doc[i]
		if d.id != r.ID || d.class != string(r.Class) || d.why != r.Why || d.alt != r.Alternative {
			t.Errorf("docs row %d = %+v, registry has %+v", i+1, d, r)
		}
	}
}

// expectedRules is the hand-written list of what each file of
// testdata/rules must produce: its own rule, and only the other rules the
// SQL unavoidably triggers too.
var expectedRules = map[string][]string{
	"V1__drop_table.sql":                           {"drop-table"},
	"V2__drop_column.sql":                          {"drop-column"},
	"V3__drop_schema.sql":                          {"drop-schema"},
	"V4__drop_database.sql":                        {"drop-database"},
	"V5__truncate.sql":                             {"truncate"},
	"V6__delete_without_where.sql":                 {"delete-without-where"},
	"V7__update_without_where.sql":                 {"update-without-where"},
	"V8__rename_table.sql":                         {"rename-table"},
	"V9__rename_column.sql":                        {"rename-column"},
	"V10__change_column_type.sql":                  {"change-column-type"},
	"V11__set_not_null.sql":                        {"set-not-null"},
	"V12__drop_not_null.sql":                       {"drop-not-null"},
	"V13__add_column_volatile_default.sql":         {"add-column-volatile-default"},
	"V14__add_column_generated_stored.sql":         {"add-column-generated-stored"},
	"V15__add_column_serial.sql":                   {"add-column-serial"},
	"V16__add_column_not_null_without_default.sql": {"add-column-not-null-without-default"},
	"V17__create_index_non_concurrent.sql":         {"create-index-non-concurrent"},
	"V18__drop_index_non_concurrent.sql":           {"drop-index-non-concurrent"},
	"V19__reindex_non_concurrent.sql":              {"reindex-non-concurrent"},
	// The explicit BEGIN is itself a finding.
	"V20__concurrently_in_transaction.sql":       {"transaction-in-migration", "concurrently-in-transaction"},
	"V21__add_foreign_key_without_not_valid.sql": {"add-foreign-key-without-not-valid"},
	"V22__add_check_without_not_valid.sql":       {"add-check-without-not-valid"},
	"V23__add_unique_constraint.sql":             {"add-unique-constraint"},
	"V24__add_primary_key.sql":                   {"add-primary-key"},
	"V25__add_exclusion_constraint.sql":          {"add-exclusion-constraint"},
	"V26__vacuum_full.sql":                       {"vacuum-full"},
	"V27__lock_table.sql":                        {"lock-table"},
	"V28__cluster.sql":                           {"cluster"},
	"V29__set_tablespace.sql":                    {"set-tablespace"},
	"V30__refresh_matview_non_concurrent.sql":    {"refresh-matview-non-concurrent"},
	"V31__detach_partition_non_concurrent.sql":   {"detach-partition-non-concurrent"},
	"V32__enum_add_value_in_transaction.sql":     {"transaction-in-migration", "enum-add-value-in-transaction"},
	"V33__transaction_in_migration.sql":          {"transaction-in-migration"},
	"V34__missing_lock_timeout.sql":              {"missing-lock-timeout"},
	"V35__drop_object.sql":                       {"drop-object"},
	"V36__char_column.sql":                       {"char-column"},
	"V37__timestamp_without_time_zone.sql":       {"timestamp-without-time-zone"},
	"V38__int_primary_key.sql":                   {"int-primary-key"},
	"V39__json_column.sql":                       {"json-column"},
}

// TestRulesDirectory lints testdata/rules, one file per rule, and checks
// that each file is flagged as the docs' rule table says (class, and the
// severity the class implies) and exactly as the hand-written list says.
func TestRulesDirectory(t *testing.T) {
	rep, err := LintDir("testdata/rules", Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]docRule{}
	for _, d := range readDocRules(t) {
		doc[d.id] = d
	}
	seen := map[string]bool{}
	for _, f := range rep.Files {
		want, ok := expectedRules[f.Path]
		if !ok {
			t.Errorf("%s: not in the expected list", f.Path)
			continue
		}
		own := strings.ReplaceAll(f.Name.Description, " ", "-")
		seen[own] = true
		d, ok := doc[own]
		if !ok {
			t.Errorf("%s: rule %q is not in docs/migrations.md", f.Path, own)
			continue
		}
		var got []string
		var ownFinding *Finding
		for i, fd := range f.Findings {
			got = append(got, fd.Rule)
			if fd.Rule == own {
				ownFinding = &f.Findings[i]
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: findings %v, want %v", f.Path, got, want)
		}
		if ownFinding == nil {
			continue
		}
		if string(ownFinding.Class) != d.class {
			t.Errorf("%s: class %s, docs say %s", f.Path, ownFinding.Class, d.class)
		}
		wantSev := SeverityWarning
		if d.class == string(Destructive) {
			wantSev = SeverityError
		}
		if ownFinding.Severity != wantSev {
			t.Errorf("%s: severity %s, want %s for a %s rule", f.Path, ownFinding.Severity, wantSev, d.class)
		}
		if string(f.Class) != d.class {
			t.Errorf("%s: file class %s, want %s", f.Path, f.Class, d.class)
		}
		if ownFinding.Line < 2 || ownFinding.Why != d.why || ownFinding.Alternative != d.alt {
			t.Errorf("%s: finding %+v lacks its line, why or alternative", f.Path, ownFinding)
		}
	}
	for _, r := range Rules {
		if !seen[r.ID] {
			t.Errorf("rule %s has no file in testdata/rules", r.ID)
		}
	}
	if rep.Passed() {
		t.Error("the rules directory passed; destructive files must fail it")
	}
}

// TestSafeDirectory: a directory written the safe way has no finding at all.
func TestSafeDirectory(t *testing.T) {
	rep, err := LintDir("testdata/safe", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 10 {
		t.Fatalf("linted %d files, want 10", len(rep.Files))
	}
	for _, f := range rep.Findings() {
		t.Errorf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
	}
	if !rep.Passed() || rep.Class != Safe {
		t.Errorf("passed=%v class=%s, want a safe pass", rep.Passed(), rep.Class)
	}
	// Flyway's order: 1, 1.1, 2 … 8, then repeatable.
	var order []string
	for _, f := range rep.Files {
		order = append(order, f.Name.Version+f.Name.Description)
	}
	want := []string{"1create users and orders", "1.1add order status", "2index order status", "3validate constraints",
		"4unique email index", "5unique email constraint", "6backfill status", "7audit events", "8drop old index", "active users view"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}

func TestDestructiveNeedsUndoOrAnnotation(t *testing.T) {
	drop := []byte("SET lock_timeout = '1s';\nALTER TABLE users DROP COLUMN nickname;\n")
	cases := []struct {
		name      string
		files     []File
		opts      Options
		severity  Severity
		allowedBy string
		pass      bool
	}{
		{"alone fails", []File{{"V3__drop_nickname.sql", drop}}, Options{}, SeverityError, "", false},
		{"undo script makes it a warning", []File{{"V3__drop_nickname.sql", drop},
			{"U3__drop_nickname.sql", []byte("ALTER TABLE users ADD COLUMN nickname text;")}}, Options{}, SeverityWarning, "undo script U3__drop_nickname.sql", true},
		{"undo with an equal version 3.0", []File{{"V3__drop_nickname.sql", drop},
			{"U3.0__drop_nickname.sql", []byte("ALTER TABLE users ADD COLUMN nickname text;")}}, Options{}, SeverityWarning, "undo script U3.0__drop_nickname.sql", true},
		{"annotation with reason", []File{{"V3__drop_nickname.sql", append([]byte("-- tandem:allow drop-column unread since release 41\n"), drop...)}},
			Options{}, SeverityAllowed, "tandem:allow: unread since release 41", true},
		{"--allow", []File{{"V3__drop_nickname.sql", drop}}, Options{Allow: []string{"drop-column"}}, SeverityAllowed, "--allow drop-column", true},
		{"annotation for another rule does not help", []File{{"V3__drop_nickname.sql", append([]byte("-- tandem:allow drop-table old\n"), drop...)}},
			Options{}, SeverityError, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := Lint(c.files, c.opts)
			var got *Finding
			for _, f := range rep.Findings() {
				if f.Rule == RuleDropColumn {
					got = &f
				}
			}
			if got == nil {
				t.Fatalf("no drop-column finding in %+v", rep.Findings())
			}
			if got.Severity != c.severity || got.AllowedBy != c.allowedBy || rep.Passed() != c.pass {
				t.Errorf("severity %s allowed by %q passed %v; want %s %q %v", got.Severity, got.AllowedBy, rep.Passed(), c.severity, c.allowedBy, c.pass)
			}
			if got.Line != 2 && !strings.Contains(c.name, "annotation") || (strings.Contains(c.name, "annotation") && got.Line != 3) {
				t.Errorf("line %d", got.Line)
			}
		})
	}
}

func TestFileChecks(t *testing.T) {
	files := []File{
		{"V1__init.sql", []byte("CREATE TABLE a (id bigint);")},
		{"V1.0__init_again.sql", []byte("CREATE TABLE b (id bigint);")},
		{"v2__lowercase.sql", []byte("SELECT 1;")},
		{"V3_add.sql", []byte("SELECT 1;")},
		{"U9__orphan.sql", []byte("SELECT 1;")},
		{"V4__bad_annotation.sql", []byte("-- tandem:allow drop-column\n-- tandem:allow no-such-rule because\nSELECT 1;")},
		{"sub/V5__nested.sql", []byte("SELECT 1;")},
	}
	rep := Lint(files, Options{})
	got := map[string][]string{}
	for _, f := range rep.Findings() {
		got[f.File] = append(got[f.File], fmt.Sprintf("%d:%s:%s", f.Line, f.Rule, f.Severity))
	}
	want := map[string][]string{
		"V1__init.sql":           {"1:duplicate-version:error"},
		"V1.0__init_again.sql":   {"1:duplicate-version:error"},
		"v2__lowercase.sql":      {"1:file-name:error"},
		"V3_add.sql":             {"1:file-name:error"},
		"U9__orphan.sql":         {"1:undo-without-versioned:warning"},
		"V4__bad_annotation.sql": {"1:invalid-annotation:error", "2:invalid-annotation:error"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings\n got %v\nwant %v", got, want)
	}
	if rep.Errors != 6 || rep.Warnings != 1 || rep.Passed() {
		t.Errorf("errors %d warnings %d passed %v", rep.Errors, rep.Warnings, rep.Passed())
	}
}

func TestSyntaxErrorIsAFinding(t *testing.T) {
	cases := []struct {
		sql       string
		line, col int
	}{
		// "SELEC" starts at line 3, column 1.
		{"-- one\nCREATE TABLE a (id bigint);\nSELEC 1;\n", 3, 1},
		// The error is at "FROM" on line 2 after a multi-byte character:
		// PostgreSQL counts characters, the finding counts bytes (é is 2).
		{"SELECT 'é';\nSELECT 1 FROM FROM t;\n", 2, 15},
		{"CREATE TABLE (", 1, 14},
		{"", 0, 0},
	}
	for _, c := range cases {
		a := Analyze([]byte(c.sql))
		if c.line == 0 {
			if len(a.Findings) != 0 {
				t.Errorf("%q: findings %v", c.sql, a.Findings)
			}
			continue
		}
		if len(a.Findings) != 1 || a.Findings[0].Rule != CheckSyntax {
			t.Fatalf("%q: findings %+v, want one syntax error", c.sql, a.Findings)
		}
		f := a.Findings[0]
		if f.Line != c.line || f.Column != c.col {
			t.Errorf("%q: at %d:%d, want %d:%d (%s)", c.sql, f.Line, f.Column, c.line, c.col, f.Message)
		}
	}
}

func TestAnalyzeLines(t *testing.T) {
	sql := "SET lock_timeout = '2s';\n\n/* a comment\n   over lines */\n-- and one more\nALTER TABLE users\n    DROP COLUMN a;\nCREATE INDEX i ON users (b);\n"
	a := Analyze([]byte(sql))
	var got []string
	for _, f := range a.Findings {
		got = append(got, fmt.Sprintf("%d:%d:%s", f.Line, f.Column, f.Rule))
	}
	want := []string{"6:1:drop-column", "8:1:create-index-non-concurrent"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestClassifierCases covers the rules' edges: what must and must not fire.
func TestClassifierCases(t *testing.T) {
	cases := []struct {
		name string
		sql  string
		want []string
	}{
		{"constant default is fine", "SET lock_timeout='1s'; ALTER TABLE t ADD COLUMN c int DEFAULT 0;", nil},
		{"now() is stable, fine", "SET lock_timeout='1s'; ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();", nil},
		{"nested volatile call", "SET lock_timeout='1s'; ALTER TABLE t ADD COLUMN c text DEFAULT md5(random()::text);", []string{RuleAddColumnVolatileDefault}},
		{"not null with default is fine", "SET lock_timeout='1s'; ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;", nil},
		{"identity column rewrites", "SET lock_timeout='1s'; ALTER TABLE t ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;", []string{RuleAddColumnSerial}},
		{"references on add column", "SET lock_timeout='1s'; ALTER TABLE t ADD COLUMN u bigint REFERENCES users(id);", []string{RuleForeignKey}},
		{"fk not valid is fine", "SET lock_timeout='1s'; ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users(id) NOT VALID;", nil},
		{"unique using index is fine", "SET lock_timeout='1s'; ALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX i;", nil},
		{"primary key using index is fine", "SET lock_timeout='1s'; ALTER TABLE t ADD CONSTRAINT k PRIMARY KEY USING INDEX i;", nil},
		{"lock_timeout 0 does not count", "SET lock_timeout = 0; ALTER TABLE t ADD COLUMN c int;", []string{RuleLockTimeout}},
		{"SET LOCAL counts", "BEGIN; SET LOCAL lock_timeout = '1s'; ALTER TABLE t ADD COLUMN c int; COMMIT;", []string{RuleNestedTransaction}},
		{"lock timeout once per file", "ALTER TABLE t ADD COLUMN c int; ALTER TABLE u ADD COLUMN d int;", []string{RuleLockTimeout}},
		{"validate constraint needs no lock timeout", "ALTER TABLE t VALIDATE CONSTRAINT c;", nil},
		{"index on new table is fine", "CREATE TABLE n (id bigint); CREATE INDEX ON n (id);", nil},
		{"concurrent index outside tx is fine", "CREATE INDEX CONCURRENTLY i ON t (c);", nil},
		{"drop index concurrently in tx", "BEGIN; DROP INDEX CONCURRENTLY i; COMMIT;", []string{RuleNestedTransaction, RuleConcurrentlyInTx}},
		{"reindex concurrently is fine", "REINDEX TABLE CONCURRENTLY t;", nil},
		{"vacuum is fine", "VACUUM ANALYZE t;", nil},
		{"vacuum (full) option form", "SET lock_timeout='1s'; VACUUM (FULL, ANALYZE) t;", []string{RuleVacuumFull}},
		{"delete with where is fine", "DELETE FROM t WHERE id = 1;", nil},
		{"update of a new table is fine", "CREATE TABLE n (a int); INSERT INTO n VALUES (1); UPDATE n SET a = 2;", nil},
		{"drop and recreate view is fine", "DROP VIEW IF EXISTS v; CREATE OR REPLACE VIEW v AS SELECT 1;", nil},
		{"drop function", "DROP FUNCTION f(int);", []string{RuleDropObject}},
		{"rename index is fine", "ALTER INDEX i RENAME TO j;", nil},
		{"enum add value outside tx is fine", "ALTER TYPE s ADD VALUE 'x';", nil},
		{"enum rename value in tx is fine", "BEGIN; ALTER TYPE s RENAME VALUE 'a' TO 'b'; COMMIT;", []string{RuleNestedTransaction}},
		{"table primary key on int", "CREATE TABLE n (id int, PRIMARY KEY (id));", []string{RuleIntPrimaryKey}},
		{"bigint primary key is fine", "CREATE TABLE n (id bigint PRIMARY KEY, at timestamptz, j jsonb, c text);", nil},
		{"character varying is fine", "CREATE TABLE n (id bigint PRIMARY KEY, c varchar(20));", nil},
		{"alter type to timestamp", "SET lock_timeout='1s'; ALTER TABLE t ALTER COLUMN c TYPE timestamp;", []string{RuleTimestamp, RuleChangeColumnType}},
		{"detach concurrently is fine", "ALTER TABLE p DETACH PARTITION c CONCURRENTLY;", []string{RuleLockTimeout}},
		{"create trigger needs a lock timeout", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();", []string{RuleLockTimeout}},
		{"refresh concurrently is fine", "REFRESH MATERIALIZED VIEW CONCURRENTLY m;", nil},
		{"truncate of a new table is fine", "CREATE TABLE n (a int); TRUNCATE n;", nil},
		{"placeholders parse", "CREATE TABLE ${schema}.n (id bigint PRIMARY KEY);", nil},
		{"BOM is ignored", "\xef\xbb\xbfSELECT 1;", nil},
		{"plain inserts are fine", "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING;", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Analyze([]byte(c.sql))
			var got []string
			for _, f := range a.Findings {
				got = append(got, f.Rule)
			}
			sort.Strings(got)
			want := append([]string(nil), c.want...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestReportFormats(t *testing.T) {
	files, err := ReadDir("testdata/rules")
	if err != nil {
		t.Fatal(err)
	}
	// A few variations so every severity shows.
	files = append(files,
		File{"U1__drop_table.sql", []byte("CREATE TABLE legacy_sessions (id bigint PRIMARY KEY);")},
		File{"V40__annotated.sql", []byte("-- tandem:allow truncate emptied every night by design\nSET lock_timeout='1s';\nTRUNCATE scratch;")},
		File{"V41__broken.sql", []byte("SELECT 1;\nALTER TABEL x;\n")},
	)
	rep := Lint(files, Options{Allow: []string{"json-column"}})
	for _, format := range []string{"text", "json", "sarif"} {
		var buf bytes.Buffer
		switch format {
		case "text":
			err = WriteText(&buf, rep, "db/migrations")
		case "json":
			err = WriteJSON(&buf, rep)
		case "sarif":
			err = WriteSARIF(&buf, rep, "db/migrations", "test")
		}
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "report."+format+".golden")
		if *update {
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s output differs from %s (go test -update to accept)", format, golden)
		}
	}
}

// TestSARIFStructure checks the SARIF 2.1.0 shape code-scanning tools need:
// version, schema, a driver with rules, and results whose ruleIndex points
// at their rule, with a level and a physical location.
func TestSARIFStructure(t *testing.T) {
	rep, err := LintDir("testdata/rules", Options{Allow: []string{"char-column"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, rep, "migrations", "dev"); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log["version"] != "2.1.0" || !strings.Contains(log["$schema"].(string), "sarif-2.1.0") {
		t.Fatalf("version/schema: %v %v", log["version"], log["$schema"])
	}
	run := log["runs"].([]any)[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	rules := driver["rules"].([]any)
	if driver["name"] == "" || len(rules) != len(Rules)+len(Checks) {
		t.Fatalf("driver %v with %d rules", driver["name"], len(rules))
	}
	results := run["results"].([]any)
	if len(results) != len(rep.Findings()) {
		t.Fatalf("%d results for %d findings", len(results), len(rep.Findings()))
	}
	levels := map[string]int{}
	for _, r := range results {
		res := r.(map[string]any)
		idx := int(res["ruleIndex"].(float64))
		if rules[idx].(map[string]any)["id"] != res["ruleId"] {
			t.Errorf("ruleIndex %d is %v, result says %v", idx, rules[idx].(map[string]any)["id"], res["ruleId"])
		}
		lvl := res["level"].(string)
		levels[lvl]++
		loc := res["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
		uri := loc["artifactLocation"].(map[string]any)["uri"].(string)
		line := loc["region"].(map[string]any)["startLine"].(float64)
		if !strings.HasPrefix(uri, "migrations/V") || line < 1 {
			t.Errorf("location %s:%v", uri, line)
		}
		if lvl == "note" && len(res["suppressions"].([]any)) != 1 {
			t.Errorf("allowed result without suppression: %v", res)
		}
		if res["message"].(map[string]any)["text"] == "" {
			t.Error("empty message")
		}
	}
	if levels["error"] == 0 || levels["warning"] == 0 || levels["note"] != 1 {
		t.Errorf("levels %v", levels)
	}
}

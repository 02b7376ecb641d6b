package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Every testdata/catalog/*.good.yaml loads; every *.bad.yaml fails with
// exactly the errors in this table, in this order, each located to
// file:line[:column] and naming the field.
func TestCatalogFiles(t *testing.T) {
	want := map[string][]string{
		"unknown-field.bad.yaml": {
			`unknown-field.bad.yaml:3:5: teams[0].slack_chanel: unknown field "slack_chanel" (did you mean "slack_channel"?); expected one of: description, display_name, members, name, slack_channel`,
			`unknown-field.bad.yaml:7:5: services[0].teir: unknown field "teir" (did you mean "tier"?); expected one of: depends_on, description, environments, escalation_policy, name, repository, revenue_per_minute, team, tier`,
			`unknown-field.bad.yaml:8:1: sevices: unknown field "sevices" (did you mean "services"?); expected one of:`,
		},
		"dangling-team.bad.yaml": {
			`dangling-team.bad.yaml:6:11: services.checkout.team: team "paymnts" does not exist; did you mean "payments"?`,
			`dangling-team.bad.yaml:8:11: services.orphan.team: team "nobody-at-all" does not exist`,
		},
		"duplicate-service.bad.yaml": {
			`duplicate-service.bad.yaml:8:11: services.api: duplicate name "api"; first defined at duplicate-service.bad.yaml:4:11`,
		},
		"bad-timezone.bad.yaml": {
			`bad-timezone.bad.yaml:6:15: people.alice.timezone: unknown time zone "Europe/Atlantis"; expected an IANA name such as Europe/Berlin`,
			`bad-timezone.bad.yaml:7:12: people.alice.email: expected an email address, got "not-an-email"`,
		},
		"syntax.bad.yaml": {
			// yaml.v3 locates block errors to the line where the block starts.
			`syntax.bad.yaml:2: did not find expected '-' indicator`,
		},
		"wrong-type.bad.yaml": {
			`wrong-type.bad.yaml:6:11: services[0].tier: expected an integer, got a string "critical"`,
			`wrong-type.bad.yaml:7:17: services[0].depends_on: expected a list, got a string "worker"`,
		},
		"not-a-mapping.bad.yaml": {
			`not-a-mapping.bad.yaml:1:1: a config document must be a mapping`,
		},
		"many.bad.yaml": {
			`many.bad.yaml:4:22: teams.core.members: person "zed" does not exist`,
			`many.bad.yaml:10:11: services.api.tier: expected a tier from 1 (most critical) to 4, got 7`,
			`many.bad.yaml:11:18: services.api.depends_on: a service cannot depend on itself`,
			`many.bad.yaml:11:23: services.api.depends_on: service "db" does not exist`,
			`many.bad.yaml:12:11: services.bad name: invalid name "bad name": expected letters, digits`,
			`many.bad.yaml:14:5: services[2].name: required: a name`,
			`many.bad.yaml:16:54: tools.Vault.backup_owner: the backup owner must differ from the primary owner "core"`,
			`many.bad.yaml:17:12: tools.vault: duplicate name "vault"; first defined at many.bad.yaml:16:12`,
			`many.bad.yaml:17:34: tools.vault.primary_owner: owner (team or person) "nobody" does not exist`,
			`many.bad.yaml:18:5: tools.CI.primary_owner: required: a team or person`,
		},
	}
	files, err := filepath.Glob("testdata/catalog/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Parse(map[string][]byte{name: b}, now)
			if strings.HasSuffix(name, ".good.yaml") {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if len(cfg.Catalog.Services) == 0 {
					t.Error("no services loaded")
				}
				return
			}
			seen[name] = true
			exp, ok := want[name]
			if !ok {
				t.Fatalf("no expected errors for %s in the table", name)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want config.Errors, got %v", err)
			}
			got := make([]string, len(errs))
			for i, e := range errs {
				got[i] = e.String()
			}
			if len(got) != len(exp) {
				t.Fatalf("got %d errors, want %d:\n  %s", len(got), len(exp), strings.Join(got, "\n  "))
			}
			for i := range exp {
				if !strings.HasPrefix(got[i], exp[i]) {
					t.Errorf("error %d:\n got  %s\n want %s…", i, got[i], exp[i])
				}
			}
		})
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("table names %s, which is not in testdata/catalog", name)
		}
	}
}

func TestExamplesLoad(t *testing.T) {
	cfg, err := Load("../../examples/tandem.d", now)
	if err != nil {
		t.Fatalf("examples/tandem.d: %v", err)
	}
	c := cfg.Catalog
	if len(c.Teams) < 3 || len(c.People) < 5 || len(c.Services) < 5 || len(c.Tools) < 5 {
		t.Errorf("sample org too small: %d teams, %d people, %d services, %d tools", len(c.Teams), len(c.People), len(c.Services), len(c.Tools))
	}
	if _, ok := c.Service("checkout"); !ok {
		t.Error("checkout missing")
	}
	if !cfg.LoadedAt.Equal(now) {
		t.Errorf("LoadedAt = %v", cfg.LoadedAt)
	}
}

// writeDir writes files (relative name → content) into a new directory.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tandem.d")
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Errors across files are all reported, sorted by file and line, with the
// file named relative to the directory's parent; a duplicate names where the
// first one is, in another file.
func TestLoadAcrossFiles(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"teams.yaml":               "teams:\n  - name: core\n",
		"services/a.yaml":          "services:\n  - name: api\n    team: core\n",
		"services/b.yml":           "services:\n  - name: api\n    team: cor\n",
		"notes.txt":                "not: [yaml",
		".git/config.yaml":         "broken: [",
		".hidden/ignored.yaml":     "broken: [",
		"services/empty.yaml":      "# nothing here\n",
		"services/multi-doc.yaml":  "---\nservices:\n  - {name: web, team: core}\n---\n",
		"services/unknownkey.yaml": "servces: []\n",
	})
	// Files are named as the directory is given: relative here.
	t.Chdir(filepath.Dir(dir))
	_, err := Load(filepath.Base(dir), now)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.String())
	}
	want := []string{
		`tandem.d/services/b.yml:2:11: services.api: duplicate name "api"; first defined at tandem.d/services/a.yaml:2:11`,
		`tandem.d/services/b.yml:3:11: services.api.team: team "cor" does not exist; did you mean "core"?`,
		`tandem.d/services/unknownkey.yaml:1:1: servces: unknown field "servces" (did you mean "services"?); expected one of: `,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n  %s", len(got), len(want), strings.Join(got, "\n  "))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n got  %s\n want %s…", i, got[i], want[i])
		}
	}
	if !strings.Contains(err.Error(), "invalid config (3 errors)") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestLoadDirectoryProblems(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing"), now); err == nil {
		t.Error("a missing directory loaded")
	}
	f := filepath.Join(t.TempDir(), "file.yaml")
	os.WriteFile(f, []byte("teams: []\n"), 0o644)
	if _, err := Load(f, now); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as directory: %v", err)
	}
	big := writeDir(t, map[string]string{"big.yaml": "# " + strings.Repeat("x", maxFileSize) + "\n"})
	_, err := Load(big, now)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over %d bytes: %v", maxFileSize, err)
	}
	// An empty directory is a valid, empty catalog.
	cfg, err := Load(writeDir(t, map[string]string{"README.md": "hi"}), now)
	if err != nil || len(cfg.Catalog.Services) != 0 {
		t.Errorf("empty directory: %v", err)
	}
}

func TestDefaultsAndLookups(t *testing.T) {
	cfg, err := Parse(map[string][]byte{"a.yaml": []byte(`
teams: [{name: core, members: [ann]}]
people: [{name: ann, team: core}]
services: [{name: api, team: core}]
tools: [{name: GitHub Actions, primary_owner: core, backup_owner: ann}]
`)}, now)
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := cfg.Catalog.Service("api")
	if !reflect.DeepEqual(svc.Environments, []string{"production"}) {
		t.Errorf("default environments = %v, want [production]", svc.Environments)
	}
	if _, ok := cfg.Catalog.Tool("github actions"); !ok {
		t.Error("tool lookup must ignore case")
	}
}

// A scanner error: yaml.v3 gives its line 1-based.
func TestSyntaxErrorLines(t *testing.T) {
	_, err := Parse(map[string][]byte{"t.yaml": []byte("teams:\n  - name: a: b\n")}, now)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != 2 || !strings.Contains(errs[0].Message, "mapping values are not allowed") {
		t.Fatalf("a: b: c on line 2: got %v", err)
	}
	// A parser error: yaml.v3 counts from 0; it is made 1-based.
	_, err = Parse(map[string][]byte{"t.yaml": []byte("[a, b\nc: d")}, now)
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != 2 {
		t.Fatalf("unclosed flow list, found on line 2: got %v", err)
	}
	_, err = Parse(map[string][]byte{"t.yaml": []byte("- a\nb: c\n")}, now)
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != 2 {
		t.Fatalf("a mapping after a list, on line 2: got %v", err)
	}
}

// Aliases that multiply a document, or refer to themselves, are rejected
// quickly, not walked forever.
func TestAliasBombs(t *testing.T) {
	bomb := `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
services: [*h]
`
	start := time.Now()
	if _, err := Parse(map[string][]byte{"bomb.yaml": []byte(bomb)}, now); err == nil {
		t.Error("alias bomb accepted")
	}
	if _, err := Parse(map[string][]byte{"self.yaml": []byte("services: &s [*s]\n")}, now); err == nil {
		t.Error("self-referencing alias accepted")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestHolderReload(t *testing.T) {
	dir := writeDir(t, map[string]string{"a.yaml": "teams: [{name: core}]\nservices: [{name: api, team: core}]\n"})
	cfg, err := Load(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHolder(cfg)
	os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("services: [{name: web, team: core}]\n"), 0o644)
	next, err := h.Reload(now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if h.Get() != next || len(h.Get().Catalog.Services) != 2 {
		t.Errorf("valid reload did not swap: %d services", len(h.Get().Catalog.Services))
	}
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("services: [{name: bad, team: nobody}]\n"), 0o644)
	_, err = h.Reload(now.Add(2 * time.Minute))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("invalid reload: %v", err)
	}
	if h.Get() != next {
		t.Error("an invalid reload replaced the serving config")
	}
	if _, err := NewHolder(&Config{}).Reload(now); err == nil {
		t.Error("reloading a config not loaded from a directory must fail")
	}
}

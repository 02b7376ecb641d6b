package importer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/catalog"
)

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tandem.d")
	res := &Result{Source: "test", Teams: []catalog.Team{{Name: "sre"}}, People: []catalog.Person{{Name: "alice", Email: "alice@example.com", Team: "sre"}},
		IDs: map[string]map[string]string{"pagerduty_user": {"PU1": "alice"}}}
	files, err := Render(res, "test", "a header")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != "test.yaml" || files[1].Name != "test.ids.json" || !strings.HasPrefix(string(files[0].Data), "# a header\n") {
		t.Fatalf("files %+v", files)
	}

	// A dry run prints the files and writes nothing.
	var log bytes.Buffer
	if err := Write(files, WriteOptions{Dir: dir, DryRun: true, Log: &log}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) || !strings.Contains(log.String(), "would write "+filepath.Join(dir, "test.yaml")) {
		t.Fatalf("dry run: %v\n%s", err, log.String())
	}

	if err := Write(files, WriteOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	// Without Force an existing file is never overwritten, in a dry run
	// too; with it, it is.
	changed := []File{{Name: "test.yaml", Data: []byte("people: [{name: bob}]\n")}}
	for _, dry := range []bool{false, true} {
		if err := Write(changed, WriteOptions{Dir: dir, DryRun: dry}); !errors.Is(err, ErrExists) {
			t.Errorf("dry run %v: %v, want ErrExists", dry, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "test.yaml")); !bytes.Equal(b, files[0].Data) {
		t.Errorf("test.yaml changed without --force:\n%s", b)
	}
	if err := Write(changed, WriteOptions{Dir: dir, Force: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "test.yaml")); !bytes.Equal(b, changed[0].Data) {
		t.Errorf("--force did not replace test.yaml:\n%s", b)
	}

	// Output that would not validate with what the directory holds (a
	// second person named bob) writes nothing and says why.
	bad := []File{{Name: "other.yaml", Data: []byte("people: [{name: bob}]\n")}}
	err = Write(bad, WriteOptions{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "nothing was written") || !strings.Contains(err.Error(), "bob") {
		t.Errorf("invalid combination: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Error("other.yaml was written")
	}

	// A file that appears between the check and the write is not
	// overwritten either.
	if err := writeAtomic(filepath.Join(dir, "test.yaml"), []byte("x"), false); !errors.Is(err, ErrExists) {
		t.Errorf("writeAtomic over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "test.yaml")); !bytes.Equal(b, changed[0].Data) {
		t.Errorf("writeAtomic replaced the file")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".test.yaml.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestLoadExisting(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("catalog.yaml", "teams: [{name: sre}]\npeople: [{name: akowalski, email: Alice@Example.com}]\nservices: [{name: checkout, team: sre}]\n")
	write("sub/oncall.yaml", "schedules: [{name: primary}]\nescalation_policies: [{name: SRE Escalation}]\nslo_settings: {prometheus_url: 'http://prom:9090'}\n")
	write("slos.yaml", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: checkout-availability}\n")
	write("pagerduty.ids.json", `{"pagerduty_service_policy": {"PSV1": "SRE Escalation"}}`)
	write("pagerduty.yaml", "people: [{name: mine, email: mine@example.com}]\n")
	write(".hidden/x.yaml", "people: [{name: hidden, email: hidden@example.com}]\n")
	ex, err := LoadExisting(dir, []string{"pagerduty.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case ex.People["alice@example.com"] != "akowalski":
		t.Errorf("people %v", ex.People)
	case ex.People["mine@example.com"] != "" || ex.People["hidden@example.com"] != "":
		t.Errorf("skipped or hidden files read: %v", ex.People)
	case !ex.Teams["sre"] || !ex.Services["checkout"] || !ex.Names["schedule"]["primary"] || !ex.Names["policy"]["sre escalation"] || !ex.Names["slo"]["checkout-availability"]:
		t.Errorf("names %v teams %v services %v", ex.Names, ex.Teams, ex.Services)
	case ex.PrometheusURL != "http://prom:9090" || ex.IDs["pagerduty_service_policy"]["PSV1"] != "SRE Escalation":
		t.Errorf("prometheus %q ids %v", ex.PrometheusURL, ex.IDs)
	}
	if ex, err := LoadExisting(filepath.Join(dir, "missing"), nil); err != nil || len(ex.People) != 0 {
		t.Errorf("a missing directory: %v %v", ex, err)
	}
}

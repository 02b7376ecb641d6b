package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/config"
)

// `tandem config example` prints the starting tandem.d with a header line
// per file; --out writes files that `tandem config validate` accepts, and a
// second run refuses to overwrite them, naming the file.
func TestConfigExample(t *testing.T) {
	code, out, errOut := run(t, "config", "example")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, f := range config.Example() {
		if !strings.Contains(out, "--- # "+f.Name+"\n") {
			t.Errorf("no header line for %s in:\n%s", f.Name, out)
		}
	}

	for _, v := range config.ExampleEnv() {
		t.Setenv(v, "a-secret-of-at-least-16-bytes")
	}
	dir := filepath.Join(t.TempDir(), "tandem.d")
	code, out, errOut = run(t, "config", "example", "--out", dir)
	if code != 0 {
		t.Fatalf("--out: exit %d: %s", code, errOut)
	}
	for _, v := range config.ExampleEnv() {
		if !strings.Contains(out, v) {
			t.Errorf("--out does not say to set %s:\n%s", v, out)
		}
	}
	catalog := filepath.Join(dir, "catalog.yaml")
	if !strings.Contains(out, "wrote "+catalog+"\n") {
		t.Errorf("--out does not list %s:\n%s", catalog, out)
	}
	if code, out, errOut := run(t, "config", "validate", dir); code != 0 || !strings.Contains(out, "valid (1 team, 2 people, 1 service, 0 tools)") {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}

	if err := os.WriteFile(catalog, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "config", "example", "--out", dir)
	if code != 1 || !strings.Contains(errOut, catalog+" already exists") {
		t.Errorf("second --out: exit %d, stderr %q; want 1 naming %s", code, errOut, catalog)
	}
	if b, _ := os.ReadFile(catalog); string(b) != "# edited\n" {
		t.Errorf("%s was overwritten", catalog)
	}
}

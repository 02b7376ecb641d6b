package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// setExampleEnv sets every variable the starting tandem.d names, as an
// operator would before loading it.
func setExampleEnv(t *testing.T) {
	for _, v := range ExampleEnv() {
		t.Setenv(v, "a-secret-of-at-least-16-bytes")
	}
}

// The starting tandem.d loads without a single error, written as files or
// printed as one stream, and holds what `tandem config example` promises.
func TestExampleLoads(t *testing.T) {
	setExampleEnv(t)
	dir := filepath.Join(t.TempDir(), "tandem.d")
	if _, err := WriteExampleDir(dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(dir, time.Now())
	if err != nil {
		t.Fatalf("the example does not load:\n%v", err)
	}
	c := cfg.Catalog
	if len(c.Teams) != 1 || len(c.People) != 2 || len(c.Services) != 1 {
		t.Errorf("catalog: %d teams, %d people, %d services; want 1, 2, 1", len(c.Teams), len(c.People), len(c.Services))
	}
	if n := cfg.SLO.Names(); len(n) != 1 {
		t.Errorf("SLOs %v; want one", n)
	}
	if len(cfg.Oncall.Schedules) != 1 || len(cfg.Oncall.Policies) != 1 {
		t.Errorf("%d schedules, %d policies; want 1, 1", len(cfg.Oncall.Schedules), len(cfg.Oncall.Policies))
	}
	in := cfg.Incident
	if in.SlackWebhookURL == "" || in.SMTP.Password == "" || len(in.ActionKey) == 0 {
		t.Errorf("notification secrets not read from the environment: %+v", in.SMTP)
	}

	var stream bytes.Buffer
	if err := WriteExample(&stream); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(map[string][]byte{"tandem.yaml": stream.Bytes()}, time.Now()); err != nil {
		t.Errorf("the printed example does not load as one file:\n%v", err)
	}
	var headers []string
	for _, line := range strings.Split(stream.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "--- # "); ok {
			headers = append(headers, name)
		}
	}
	var names []string
	for _, f := range Example() {
		names = append(names, f.Name)
	}
	if !slices.Equal(headers, names) || len(names) < 4 {
		t.Errorf("file headers %v; want one per file %v", headers, names)
	}
}

// Secrets are read at load: without the variables, the example names each
// one that is missing, and its notifications file says to set them all.
func TestExampleNamesItsVariables(t *testing.T) {
	env := ExampleEnv()
	if len(env) == 0 {
		t.Fatal("the example names no environment variable")
	}
	for _, v := range env {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	if _, err := WriteExampleDir(dir); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, time.Now())
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("load without the variables: %v", err)
	}
	var notes []byte
	for _, f := range Example() {
		if f.Name == "notifications.yaml" {
			notes = f.Content
		}
	}
	for _, v := range env {
		if !strings.Contains(errs.Error(), "environment variable "+v+" is not set") {
			t.Errorf("no error names %s:\n%v", v, errs)
		}
		if !bytes.Contains(notes, []byte(v)) {
			t.Errorf("notifications.yaml does not tell the reader to set %s", v)
		}
	}
}

// WriteExampleDir never overwrites: a second run, or a directory holding
// one of the files, writes nothing and names the file.
func TestWriteExampleDirNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	written, err := WriteExampleDir(dir)
	if err != nil || len(written) != len(Example()) {
		t.Fatalf("first run: %v, %v", written, err)
	}
	first := filepath.Join(dir, Example()[0].Name)
	if err := os.WriteFile(first, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if w, err := WriteExampleDir(dir); err == nil || !strings.Contains(err.Error(), first+" already exists") || len(w) != 0 {
		t.Errorf("second run: wrote %v, error %v; want nothing written and %s named", w, err, first)
	}
	if b, _ := os.ReadFile(first); string(b) != "# mine\n" {
		t.Errorf("%s was overwritten", first)
	}

	other := t.TempDir()
	last := filepath.Join(other, Example()[len(Example())-1].Name)
	if err := os.WriteFile(last, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteExampleDir(other); err == nil || !strings.Contains(err.Error(), last) {
		t.Errorf("want an error naming %s, got %v", last, err)
	}
	if ents, _ := os.ReadDir(other); len(ents) != 1 {
		t.Errorf("files written beside the existing one: %v", ents)
	}
}

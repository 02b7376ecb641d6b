package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// exampleFS holds the starting tandem.d that `tandem config example`
// prints: a team, two people, a service, a short-form SLO, a schedule, an
// escalation policy and notification settings, commented for a first read.
//
//go:embed example/*.yaml
var exampleFS embed.FS

// ExampleFile is one file of the starting tandem.d.
type ExampleFile struct {
	Name    string // base name, such as catalog.yaml
	Content []byte
}

// Example returns the files of the starting tandem.d, sorted by name.
func Example() []ExampleFile {
	ents, err := fs.ReadDir(exampleFS, "example")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	out := make([]ExampleFile, 0, len(ents))
	for _, e := range ents {
		b, err := fs.ReadFile(exampleFS, "example/"+e.Name())
		if err != nil {
			panic(err)
		}
		out = append(out, ExampleFile{Name: e.Name(), Content: b})
	}
	return out
}

// WriteExample prints the starting tandem.d as one YAML stream: each file
// is a document whose first line, "--- # NAME", says which file it is. The
// stream is itself a valid config file.
func WriteExample(w io.Writer) error {
	for _, f := range Example() {
		if _, err := fmt.Fprintf(w, "--- # %s\n%s", f.Name, f.Content); err != nil {
			return err
		}
	}
	return nil
}

// WriteExampleDir writes the starting tandem.d's files into dir, creating
// dir when it is missing, and returns their paths. It never overwrites: if
// any of the files exists, it writes none and says which.
func WriteExampleDir(dir string) ([]string, error) {
	files := Example()
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("%s already exists; config example never overwrites a file (choose another --out, or move the file away)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		// O_EXCL keeps the promise even against a file created since the
		// check above.
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return written, fmt.Errorf("%s already exists; config example never overwrites a file", p)
		}
		if err != nil {
			return written, err
		}
		_, err = fh.Write(f.Content)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// ExampleEnv lists, sorted, the environment variables that the starting
// tandem.d's *_env keys name: they must be set before it loads.
func ExampleEnv() []string {
	seen := map[string]bool{}
	var visit func(n *yaml.Node)
	visit = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if strings.HasSuffix(k.Value, "_env") && v.Kind == yaml.ScalarNode && v.Value != "" {
					seen[v.Value] = true
				}
			}
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	for _, f := range Example() {
		dec := yaml.NewDecoder(bytes.NewReader(f.Content))
		for {
			var doc yaml.Node
			if dec.Decode(&doc) != nil {
				break
			}
			visit(&doc)
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

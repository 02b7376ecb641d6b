package migration

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// File is one migration file's name (relative to the directory) and content.
type File struct {
	Path    string // slash-separated path below the directory, e.g. "V1__init.sql"
	Content []byte
}

// Options adjust a lint.
type Options struct {
	// Allow lists rule ids whose findings are accepted everywhere (--allow).
	Allow []string
}

// FileResult is the lint of one file.
type FileResult struct {
	Path string `json:"path"`
	// Name is the parsed file name; zero when the name is invalid.
	Name       Name      `json:"name"`
	Class      Class     `json:"class"`
	Statements int       `json:"statements"`
	Findings   []Finding `json:"findings"`
	// Undo is the undo script for this versioned migration, if any.
	Undo string `json:"undo,omitempty"`
}

// Report is the lint of a directory.
type Report struct {
	// Files are in Flyway's order: versioned and undo by version, then
	// repeatable by description, then files with invalid names.
	Files    []FileResult `json:"files"`
	Errors   int          `json:"errors"`
	Warnings int          `json:"warnings"`
	Allowed  int          `json:"allowed"`
	// Class is the worst class of any file.
	Class Class `json:"class"`
}

// Passed reports whether the lint found no error.
func (r Report) Passed() bool { return r.Errors == 0 }

// Findings returns every finding, in file order.
func (r Report) Findings() []Finding {
	var out []Finding
	for _, f := range r.Files {
		out = append(out, f.Findings...)
	}
	return out
}

// LintDir reads every *.sql file below dir and lints them. Only a directory
// that cannot be listed is an error; an unreadable file is a finding.
func LintDir(dir string, opts Options) (Report, error) {
	files, err := ReadDir(dir)
	if err != nil {
		return Report{}, err
	}
	return Lint(files, opts), nil
}

// ReadDir reads every *.sql file below dir (recursively, as Flyway scans a
// location). A file that cannot be read is returned with nil Content and
// reported by Lint.
func ReadDir(dir string) ([]File, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("migrations directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("migrations directory: %s is not a directory", dir)
	}
	var files []File
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".sql") {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			b = nil
		} else if b == nil {
			b = []byte{}
		}
		files = append(files, File{Path: filepath.ToSlash(rel), Content: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	return files, nil
}

// Lint classifies every file and applies the directory rules: file names,
// duplicate versions, undo scripts, annotations and opts.Allow. Files are
// parsed in parallel; the result does not depend on the order of files.
func Lint(files []File, opts Options) Report {
	results := make([]FileResult, len(files))
	analyses := make([]Analysis, len(files))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), max(len(files), 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if files[i].Content != nil {
					analyses[i] = Analyze(files[i].Content)
				}
			}
		}()
	}
	for i := range files {
		work <- i
	}
	close(work)
	wg.Wait()

	allowed := map[string]bool{}
	for _, id := range opts.Allow {
		allowed[id] = true
	}
	// Names, versions and undo scripts.
	undoOf := map[string]string{}  // canonical version -> undo script
	versions := map[string][]int{} // canonical version -> versioned files
	for i, f := range files {
		r := &results[i]
		r.Path = f.Path
		r.Class = Unknown
		if f.Content == nil {
			r.Findings = append(r.Findings, checkFinding(f.Path, 0, CheckUnreadable, "cannot read the file", SeverityError))
			continue
		}
		n, err := ParseName(baseName(f.Path))
		if err != nil {
			r.Findings = append(r.Findings, checkFinding(f.Path, 0, CheckFileName, err.(*NameError).Reason, SeverityError))
			continue
		}
		r.Name = n
		r.Class = Safe
		switch n.Kind {
		case Undo:
			undoOf[n.VersionKey().String()] = f.Path
		case Versioned:
			versions[n.VersionKey().String()] = append(versions[n.VersionKey().String()], i)
		}
	}
	for v, idx := range versions {
		if len(idx) < 2 {
			continue
		}
		names := make([]string, len(idx))
		for k, i := range idx {
			names[k] = files[i].Path
		}
		sort.Strings(names)
		for _, i := range idx {
			results[i].Findings = append(results[i].Findings, checkFinding(files[i].Path, 0, CheckDuplicateVersion,
				fmt.Sprintf("version %s is used by %s", v, strings.Join(names, ", ")), SeverityError))
		}
	}
	for i := range files {
		r := &results[i]
		if r.Name.Kind == Undo {
			if _, ok := versions[r.Name.VersionKey().String()]; !ok {
				r.Findings = append(r.Findings, checkFinding(r.Path, 0, CheckUndoWithoutTarget,
					fmt.Sprintf("no versioned migration V%s__… for this undo script", r.Name.Version), SeverityWarning))
			}
		}
		if r.Name.Kind == Versioned {
			r.Undo = undoOf[r.Name.VersionKey().String()]
		}
	}

	// Statement findings with their severity.
	for i := range files {
		r := &results[i]
		if files[i].Content == nil {
			continue
		}
		a := analyses[i]
		r.Statements = a.Statements
		for _, f := range a.Findings {
			if f.Rule == CheckSyntax {
				r.Class = Unknown
			}
		}
		annotated := map[string]string{}
		for _, an := range a.Annotations {
			for _, id := range an.Rules {
				annotated[id] = an.Reason
			}
		}
		for _, f := range a.Findings {
			f.File = r.Path
			f.Severity, f.AllowedBy = severity(f, r, allowed, annotated)
			r.Findings = append(r.Findings, f)
			if f.Class != "" && r.Class != Unknown {
				r.Class = r.Class.Worse(f.Class)
			}
		}
		sortFindings(r.Findings)
	}

	sort.SliceStable(results, func(i, j int) bool { return lessFile(results[i], results[j]) })
	rep := Report{Files: results, Class: Safe}
	for _, r := range results {
		rep.Class = rep.Class.Worse(r.Class)
		for _, f := range r.Findings {
			switch f.Severity {
			case SeverityError:
				rep.Errors++
			case SeverityWarning:
				rep.Warnings++
			case SeverityAllowed:
				rep.Allowed++
			}
		}
	}
	return rep
}

// severity decides what a statement finding does: file checks are errors;
// findings in undo scripts warn; --allow and annotations accept; a
// destructive finding fails unless the migration has an undo script.
func severity(f Finding, r *FileResult, allowed map[string]bool, annotated map[string]string) (Severity, string) {
	if f.Class == "" {
		return SeverityError, ""
	}
	if allowed[f.Rule] {
		return SeverityAllowed, "--allow " + f.Rule
	}
	if reason, ok := annotated[f.Rule]; ok {
		return SeverityAllowed, "tandem:allow: " + reason
	}
	if r.Name.Kind == Undo {
		return SeverityWarning, ""
	}
	if f.Class == Destructive {
		if r.Undo == "" {
			return SeverityError, ""
		}
		return SeverityWarning, "undo script " + r.Undo
	}
	return SeverityWarning, ""
}

func checkFinding(path string, line int, id, msg string, sev Severity) Finding {
	c, _ := ruleOrCheck(id)
	if line == 0 {
		line = 1
	}
	return Finding{File: path, Line: line, Column: 1, Rule: id, Severity: sev, Message: msg, Why: c.Why, Alternative: c.Alternative}
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// lessFile orders files as Flyway applies them: versioned (each with its
// undo right after it) by version, then repeatable by description, then
// invalid names by path.
func lessFile(a, b FileResult) bool {
	ra, rb := fileRank(a), fileRank(b)
	if ra != rb {
		return ra < rb
	}
	switch ra {
	case 0:
		if c := a.Name.VersionKey().Compare(b.Name.VersionKey()); c != 0 {
			return c < 0
		}
		if a.Name.Kind != b.Name.Kind {
			return a.Name.Kind == Versioned
		}
	case 1:
		if a.Name.Description != b.Name.Description {
			return a.Name.Description < b.Name.Description
		}
	}
	return a.Path < b.Path
}

func fileRank(r FileResult) int {
	switch r.Name.Kind {
	case Versioned, Undo:
		return 0
	case Repeatable:
		return 1
	}
	return 2
}

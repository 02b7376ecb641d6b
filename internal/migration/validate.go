package migration

import (
	"context"
	"database/sql"
	"fmt"
	"hash/crc32"
	"regexp"
	"sort"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Checksum is Flyway's checksum of a SQL migration: CRC-32 (IEEE) over the
// file's lines without their line terminators (\n, \r\n or \r), with a
// UTF-8 byte-order mark at the start removed, as a signed 32-bit integer.
// Line endings therefore do not change it.
func Checksum(content []byte) int32 {
	if len(content) >= 3 && content[0] == 0xEF && content[1] == 0xBB && content[2] == 0xBF {
		content = content[3:]
	}
	h := crc32.NewIEEE()
	start := 0
	for i, c := range content {
		if c == '\n' || c == '\r' {
			if i > start {
				h.Write(content[start:i])
			}
			start = i + 1
		}
	}
	if start < len(content) {
		h.Write(content[start:])
	}
	return int32(h.Sum32())
}

// Applied is one row of flyway_schema_history.
type Applied struct {
	InstalledRank int       `json:"installed_rank"`
	Version       string    `json:"version,omitempty"` // empty for repeatable migrations
	Description   string    `json:"description"`
	Type          string    `json:"type"` // SQL, BASELINE, SCHEMA, UNDO_SQL, DELETE…
	Script        string    `json:"script"`
	Checksum      *int32    `json:"checksum,omitempty"`
	Success       bool      `json:"success"`
	ExecutionMs   int       `json:"execution_time"`
	InstalledOn   time.Time `json:"installed_on"`
}

// Issue kinds reported by Validate.
const (
	IssueMissing     = "applied-missing"      // applied, but no file for it any more
	IssueChecksum    = "checksum-changed"     // the file changed since it was applied
	IssueDescription = "description-changed"  // the file was renamed since it was applied
	IssueFailed      = "failed"               // the last attempt failed
	IssuePending     = "pending"              // not applied yet, newer than every applied version
	IssueOutOfOrder  = "pending-out-of-order" // not applied, older than the newest applied version
	IssueRepeatable  = "repeatable-changed"   // a repeatable migration changed and will run again
)

// Issue is one difference between the files and the history.
type Issue struct {
	Kind    string `json:"kind"`
	Version string `json:"version,omitempty"`
	Script  string `json:"script"`
	// Fails says whether the issue fails validation (as in flyway validate):
	// missing, checksum, description and failed do; pending ones do not.
	Fails   bool   `json:"fails"`
	Message string `json:"message"`
}

// Validation is the result of comparing a directory with its history.
type Validation struct {
	Applied int     `json:"applied"`
	Pending int     `json:"pending"`
	Issues  []Issue `json:"issues"`
}

// Passed reports whether no issue fails validation.
func (v Validation) Passed() bool {
	for _, i := range v.Issues {
		if i.Fails {
			return false
		}
	}
	return true
}

// Validate compares the migration files with the rows of
// flyway_schema_history the way `flyway validate` does: an applied version
// without a file, a file whose checksum or description differs from what
// was applied, and a failed migration fail validation; versions not yet
// applied are reported as pending (out of order when older than the newest
// applied version) without failing. Undo files and files with invalid
// names are ignored (the lint reports them). Rows are taken in
// installed_rank order; the latest row for a version decides its state, and
// an UNDO_SQL or DELETE row makes the version unapplied again. Versions at
// or below a BASELINE row are treated as applied.
func Validate(files []File, history []Applied) Validation {
	type fileInfo struct {
		name     Name
		checksum int32
	}
	versioned := map[string]fileInfo{}
	repeatable := map[string]fileInfo{}
	for _, f := range files {
		if f.Content == nil {
			continue
		}
		n, err := ParseName(baseName(f.Path))
		if err != nil {
			continue
		}
		fi := fileInfo{n, Checksum(f.Content)}
		switch n.Kind {
		case Versioned:
			versioned[n.VersionKey().String()] = fi
		case Repeatable:
			repeatable[n.Description] = fi
		}
	}
	rows := append([]Applied(nil), history...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].InstalledRank < rows[j].InstalledRank })
	latest := map[string]Applied{}       // version -> latest row
	latestRepeat := map[string]Applied{} // description -> latest successful row
	var baseline *Version
	for _, r := range rows {
		switch {
		case r.Type == "SCHEMA":
			continue
		case r.Type == "BASELINE":
			if v, err := ParseVersion(r.Version); err == nil {
				baseline = &v
			}
		case r.Version == "":
			if r.Success {
				latestRepeat[r.Description] = r
			}
		default:
			v, err := ParseVersion(r.Version)
			if err != nil {
				continue
			}
			key := v.String()
			if r.Type == "UNDO_SQL" || r.Type == "DELETE" {
				delete(latest, key)
				continue
			}
			latest[key] = r
		}
	}
	var out Validation
	var maxApplied *Version
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sortVersions(keys)
	for _, k := range keys {
		r := latest[k]
		v, _ := ParseVersion(k)
		if r.Success && (maxApplied == nil || v.Compare(*maxApplied) > 0) {
			vv := v
			maxApplied = &vv
		}
		f, ok := versioned[k]
		switch {
		case !r.Success:
			out.Issues = append(out.Issues, Issue{Kind: IssueFailed, Version: r.Version, Script: r.Script, Fails: true,
				Message: fmt.Sprintf("migration %s (%s) failed on %s; fix the database by hand, then repair the history", r.Version, r.Script, r.InstalledOn.UTC().Format(time.RFC3339))})
		case !ok:
			out.Issues = append(out.Issues, Issue{Kind: IssueMissing, Version: r.Version, Script: r.Script, Fails: true,
				Message: fmt.Sprintf("version %s (%s) was applied but no file has it any more", r.Version, r.Script)})
		default:
			out.Applied++
			if r.Checksum != nil && *r.Checksum != f.checksum {
				out.Issues = append(out.Issues, Issue{Kind: IssueChecksum, Version: r.Version, Script: f.name.Script, Fails: true,
					Message: fmt.Sprintf("version %s changed after it was applied: checksum %d applied, %d in %s", r.Version, *r.Checksum, f.checksum, f.name.Script)})
			}
			if r.Description != f.name.Description {
				out.Issues = append(out.Issues, Issue{Kind: IssueDescription, Version: r.Version, Script: f.name.Script, Fails: true,
					Message: fmt.Sprintf("version %s was applied as %q, the file now says %q", r.Version, r.Description, f.name.Description)})
			}
		}
	}
	pending := make([]string, 0)
	for k := range versioned {
		if _, ok := latest[k]; ok {
			continue
		}
		if baseline != nil {
			if v, _ := ParseVersion(k); v.Compare(*baseline) <= 0 {
				continue
			}
		}
		pending = append(pending, k)
	}
	sortVersions(pending)
	for _, k := range pending {
		f := versioned[k]
		v, _ := ParseVersion(k)
		out.Pending++
		if maxApplied != nil && v.Compare(*maxApplied) < 0 {
			out.Issues = append(out.Issues, Issue{Kind: IssueOutOfOrder, Version: f.name.Version, Script: f.name.Script,
				Message: fmt.Sprintf("version %s is not applied and is older than the newest applied version %s; Flyway skips it unless outOfOrder is on", f.name.Version, maxApplied)})
			continue
		}
		out.Issues = append(out.Issues, Issue{Kind: IssuePending, Version: f.name.Version, Script: f.name.Script,
			Message: fmt.Sprintf("version %s is pending", f.name.Version)})
	}
	descs := make([]string, 0, len(repeatable))
	for d := range repeatable {
		descs = append(descs, d)
	}
	sort.Strings(descs)
	for _, d := range descs {
		f := repeatable[d]
		r, ok := latestRepeat[d]
		switch {
		case !ok:
			out.Pending++
			out.Issues = append(out.Issues, Issue{Kind: IssuePending, Script: f.name.Script, Message: fmt.Sprintf("repeatable migration %s is pending", f.name.Script)})
		case r.Checksum == nil || *r.Checksum != f.checksum:
			out.Pending++
			out.Issues = append(out.Issues, Issue{Kind: IssueRepeatable, Script: f.name.Script, Message: fmt.Sprintf("repeatable migration %s changed and will run again", f.name.Script)})
		}
	}
	if out.Issues == nil {
		out.Issues = []Issue{}
	}
	return out
}

func sortVersions(keys []string) {
	sort.Slice(keys, func(i, j int) bool {
		a, _ := ParseVersion(keys[i])
		b, _ := ParseVersion(keys[j])
		return a.Compare(b) < 0
	})
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ReadHistory reads flyway_schema_history (or the named table, optionally
// schema-qualified as schema.table) from the PostgreSQL database at url.
func ReadHistory(ctx context.Context, url, table string) ([]Applied, error) {
	if table == "" {
		table = "flyway_schema_history"
	}
	quoted := ""
	for i, part := range splitQualified(table) {
		if !identRE.MatchString(part) {
			return nil, fmt.Errorf("history table %q: want [schema.]name made of letters, digits and _", table)
		}
		if i > 0 {
			quoted += "."
		}
		quoted += `"` + part + `"`
	}
	d, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	defer d.Close()
	rows, err := d.QueryContext(ctx, `SELECT installed_rank, version, description, type, script, checksum,
		success, execution_time, installed_on FROM `+quoted+` ORDER BY installed_rank`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	var out []Applied
	for rows.Next() {
		var a Applied
		var version sql.NullString
		var checksum sql.NullInt32
		if err := rows.Scan(&a.InstalledRank, &version, &a.Description, &a.Type, &a.Script, &checksum,
			&a.Success, &a.ExecutionMs, &a.InstalledOn); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		a.Version = version.String
		if checksum.Valid {
			c := checksum.Int32
			a.Checksum = &c
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return out, nil
}

func splitQualified(s string) []string {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return []string{s[:i], s[i+1:]}
		}
	}
	return []string{s}
}

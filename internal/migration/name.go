// Package migration reads Flyway-style SQL migration directories and judges
// them before they reach a database.
//
// Files follow Flyway's naming: V<version>__<description>.sql (versioned),
// U<version>__<description>.sql (undo of the versioned file with the same
// version) and R__<description>.sql (repeatable). Versions are dot- or
// underscore-separated numbers compared part by part as integers, like
// Flyway's (1.10 comes after 1.9; 001 and 1 are the same version).
//
// Lint parses every statement with the real PostgreSQL parser
// (pganalyze/pg_query_go, libpg_query) and classifies each migration as safe,
// risky or destructive with the rules in Rules (documented, with the same
// text, in docs/migrations.md). Validate compares a directory with a
// database's flyway_schema_history table the way `flyway validate` does,
// using Flyway's CRC32 checksum.
//
// Everything here except ReadHistory and reading files is pure: it takes
// bytes and returns values.
package migration

import (
	"fmt"
	"math/big"
	"strings"
)

// Kind is the kind of a migration file, Flyway's prefix letter.
type Kind string

// The three Flyway migration kinds.
const (
	Versioned  Kind = "V"
	Undo       Kind = "U"
	Repeatable Kind = "R"
)

// Name is a parsed migration file name.
type Name struct {
	// Script is the file name as given (Flyway's "script" column).
	Script string `json:"script"`
	Kind   Kind   `json:"kind"`
	// Version is the version as written, with underscores turned into dots
	// ("1_1" is "1.1"); empty for repeatable migrations.
	Version string `json:"version,omitempty"`
	// Description is Flyway's description: the part after "__" without the
	// suffix, underscores as spaces.
	Description string `json:"description"`

	parts []*big.Int
}

// NameError says why a file name is not a valid migration name.
type NameError struct {
	Script string
	Reason string
}

func (e *NameError) Error() string { return fmt.Sprintf("%s: %s", e.Script, e.Reason) }

// ParseName parses a Flyway file name (the base name, without directory):
// V<version>__<description>.sql, U<version>__<description>.sql or
// R__<description>.sql. The version is one or more numbers separated by "."
// or "_"; the description may be empty. Any other name is a *NameError
// saying what is wrong.
func ParseName(script string) (Name, error) {
	bad := func(format string, args ...any) (Name, error) {
		return Name{}, &NameError{Script: script, Reason: fmt.Sprintf(format, args...)}
	}
	base, ok := strings.CutSuffix(script, ".sql")
	if !ok {
		return bad("a migration file must end in .sql")
	}
	if base == "" {
		return bad("empty name")
	}
	kind := Kind(base[:1])
	switch kind {
	case Versioned, Undo, Repeatable:
	default:
		return bad("want the prefix V (versioned), U (undo) or R (repeatable), upper case, got %q", base[:1])
	}
	rest := base[1:]
	sep := strings.Index(rest, "__")
	if sep < 0 {
		return bad(`missing "__" between version and description (want %s<version>__<description>.sql)`, kind)
	}
	version, desc := rest[:sep], rest[sep+2:]
	n := Name{Script: script, Kind: kind, Description: strings.ReplaceAll(desc, "_", " ")}
	if kind == Repeatable {
		if version != "" {
			return bad(`a repeatable migration has no version: want R__<description>.sql`)
		}
		return n, nil
	}
	if version == "" {
		return bad("missing version after %q", string(kind))
	}
	parts, err := parseVersion(version)
	if err != nil {
		return bad("version %q: %v", version, err)
	}
	n.Version = strings.ReplaceAll(version, "_", ".")
	n.parts = parts
	return n, nil
}

// parseVersion splits a version on "." and "_" into non-negative integers.
func parseVersion(v string) ([]*big.Int, error) {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '_' })
	if len(fields) == 0 || strings.HasPrefix(v, ".") || strings.HasPrefix(v, "_") ||
		strings.HasSuffix(v, ".") || strings.HasSuffix(v, "_") ||
		strings.Contains(v, "..") || strings.Contains(v, "._") || strings.Contains(v, "_.") {
		return nil, fmt.Errorf("want numbers separated by single dots or underscores, such as 1, 1.2 or 2024_01_05")
	}
	out := make([]*big.Int, len(fields))
	for i, f := range fields {
		for _, c := range f {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("part %q is not a number", f)
			}
		}
		out[i], _ = new(big.Int).SetString(f, 10)
	}
	return out, nil
}

// ParseVersion parses a version string as Flyway compares it (the form
// stored in flyway_schema_history, "1.2").
func ParseVersion(v string) (Version, error) {
	p, err := parseVersion(v)
	if err != nil {
		return Version{}, err
	}
	return Version{p}, nil
}

// Version is a comparable migration version.
type Version struct{ parts []*big.Int }

// VersionKey returns n's comparable version (zero for repeatable migrations).
func (n Name) VersionKey() Version { return Version{n.parts} }

// Compare returns -1, 0 or 1 as v is before, equal to or after w. Missing
// trailing parts count as zero, so 1 and 1.0 are equal, as in Flyway.
func (v Version) Compare(w Version) int {
	for i := 0; i < max(len(v.parts), len(w.parts)); i++ {
		a, b := partAt(v.parts, i), partAt(w.parts, i)
		if c := a.Cmp(b); c != 0 {
			return c
		}
	}
	return 0
}

// String is the canonical form: parts without leading zeros and without
// trailing zero parts, joined by dots ("01.2.0" is "1.2"), so equal versions
// have equal strings.
func (v Version) String() string {
	n := len(v.parts)
	for n > 1 && v.parts[n-1].Sign() == 0 {
		n--
	}
	s := make([]string, n)
	for i, p := range v.parts[:n] {
		s[i] = p.String()
	}
	return strings.Join(s, ".")
}

var zero = big.NewInt(0)

func partAt(p []*big.Int, i int) *big.Int {
	if i < len(p) {
		return p[i]
	}
	return zero
}

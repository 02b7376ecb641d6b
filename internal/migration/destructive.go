package migration

import (
	"slices"
)

// RewriteRules are the risky rules whose changes the migration gate holds
// to the same stricter checks as destructive ones: they rewrite a table,
// change a column's type, or drop an object code may use, so going back
// means restoring data or objects rather than re-running a statement. The
// list is the one in docs/migrations.md ("Destructive changes in the
// migration gate").
var RewriteRules = []string{
	RuleChangeColumnType, RuleAddColumnVolatileDefault, RuleAddColumnGeneratedStored, RuleAddColumnSerial,
	RuleVacuumFull, RuleCluster, RuleSetTablespace, RuleDropObject,
}

// Change is one change of a pending migration that the migration gate
// treats as destructive.
type Change struct {
	// File is the migration's path, Version its version ("" for a
	// repeatable migration or a file whose name is not Flyway's).
	File    string `json:"file"`
	Version string `json:"version,omitempty"`
	// Rule is the lint rule (or file check) behind the change; Line where.
	Rule    string `json:"rule"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	// Undo is the migration's undo script (U<version>__…), if it has one.
	Undo string `json:"undo,omitempty"`
}

// GateDestructive reports whether a finding of rule makes a migration
// destructive for the migration gate: a rule of the destructive class, or
// one of RewriteRules.
func GateDestructive(rule string) bool {
	if r, ok := RuleByID(rule); ok && r.Class == Destructive {
		return true
	}
	return slices.Contains(RewriteRules, rule)
}

// DestructiveChanges lists the changes in the report's migrations that
// the migration gate treats as destructive: every finding of a GateDestructive
// rule, whether the lint accepted it (an undo script, tandem:allow,
// --allow) or not, and every file that cannot be judged (unreadable,
// misnamed, not valid SQL), which might hold anything. Undo scripts are
// left out: they are the way back, not the change. The order is the
// report's.
func (r Report) DestructiveChanges() []Change {
	var out []Change
	for _, f := range r.Files {
		if f.Name.Kind == Undo {
			continue
		}
		if f.Class == Unknown {
			c := Change{File: f.Path, Version: f.Name.Version, Undo: f.Undo, Message: "the file cannot be judged"}
			for _, fd := range f.Findings {
				if fd.Severity == SeverityError && fd.Class == "" {
					c.Rule, c.Line, c.Message = fd.Rule, fd.Line, "the file cannot be judged: "+fd.Message
					break
				}
			}
			out = append(out, c)
			continue
		}
		for _, fd := range f.Findings {
			if GateDestructive(fd.Rule) {
				out = append(out, Change{File: f.Path, Version: f.Name.Version, Rule: fd.Rule, Line: fd.Line, Message: fd.Message, Undo: f.Undo})
			}
		}
	}
	return out
}

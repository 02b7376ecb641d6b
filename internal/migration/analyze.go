package migration

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Severity is what a finding does to the lint's verdict.
type Severity string

// Severities: errors fail the lint, warnings are reported, allowed findings
// are reported as accepted (by --allow or an annotation).
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityAllowed Severity = "allowed"
)

// Finding is one problem at one place.
type Finding struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Rule   string `json:"rule"`
	// Class is the rule's class; empty for file checks (syntax, naming…).
	Class    Class    `json:"class,omitempty"`
	Severity Severity `json:"severity"`
	// Message says what was found here ("DROP COLUMN email on users").
	Message     string `json:"message"`
	Why         string `json:"why"`
	Alternative string `json:"alternative"`
	// AllowedBy says what accepted the finding: "--allow", the annotation's
	// reason, or the undo script that reverts it.
	AllowedBy string `json:"allowed_by,omitempty"`
}

// Annotation is a `-- tandem:allow <rule>[,<rule>…] <reason>` comment,
// which accepts those rules' findings in its whole file.
type Annotation struct {
	Line   int      `json:"line"`
	Rules  []string `json:"rules"`
	Reason string   `json:"reason"`
}

// Analysis is what the classifier found in one file's SQL, before any
// directory-level decision (undo scripts, --allow) is applied.
type Analysis struct {
	Statements  int
	Findings    []Finding // File empty, Severity empty
	Annotations []Annotation
}

// Analyze parses sql with the PostgreSQL parser and applies every rule. It
// never fails: a syntax error is a syntax-error finding at its line, and a
// malformed annotation an invalid-annotation finding. Flyway placeholders
// (${name}) are read as identifiers of the same length, so positions stay
// right.
func Analyze(sql []byte) Analysis {
	src := string(sql)
	if len(src) >= 3 && src[:3] == "\xef\xbb\xbf" { // UTF-8 BOM: blank it, keep offsets
		src = "   " + src[3:]
	}
	lines := newLineIndex(src)
	var a Analysis
	a.Annotations, a.Findings = parseAnnotations(src)
	tree, err := pg.Parse(maskPlaceholders(src))
	if err != nil {
		line, col := 1, 1
		msg := err.Error()
		var pe *pgparser.Error
		if errors.As(err, &pe) && pe.Cursorpos > 0 {
			line, col = lines.pos(charToByte(src, pe.Cursorpos-1))
		}
		c, _ := ruleOrCheck(CheckSyntax)
		a.Findings = append(a.Findings, Finding{Line: line, Column: col, Rule: CheckSyntax, Message: msg, Why: c.Why, Alternative: c.Alternative})
		sortFindings(a.Findings)
		return a
	}
	v := &visitor{src: src, lines: lines, created: map[string]bool{}, createdObjects: map[string]bool{}}
	v.collectCreated(tree.Stmts)
	for _, raw := range tree.Stmts {
		v.stmtStart = skipSpaceAndComments(src, int(raw.StmtLocation))
		v.stmt(raw.Stmt)
	}
	a.Statements = len(tree.Stmts)
	a.Findings = append(a.Findings, v.findings...)
	sortFindings(a.Findings)
	return a
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Line != fs[j].Line {
			return fs[i].Line < fs[j].Line
		}
		return fs[i].Column < fs[j].Column
	})
}

// visitor walks the statements of one file in order, keeping the state the
// rules need: whether a transaction block is open, whether lock_timeout is
// set, which tables the file itself creates.
type visitor struct {
	src       string
	lines     lineIndex
	stmtStart int

	created        map[string]bool // tables created in this file (lock rules do not apply)
	createdObjects map[string]bool // views, functions, types… created in this file
	inTx           bool
	sawTx          bool
	lockTimeout    bool
	lockFlagged    bool

	findings []Finding
}

func (v *visitor) add(rule string, loc int32, format string, args ...any) {
	off := v.stmtStart
	if loc > 0 && int(loc) < len(v.src) {
		off = int(loc)
	}
	line, col := v.lines.pos(off)
	r, _ := RuleByID(rule)
	v.findings = append(v.findings, Finding{Line: line, Column: col, Rule: rule, Class: r.Class,
		Message: fmt.Sprintf(format, args...), Why: r.Why, Alternative: r.Alternative})
}

// collectCreated records what the file creates before the rules run, so a
// DROP VIEW followed by CREATE VIEW (the usual repeatable migration) is not
// reported, and lock rules skip tables that are new.
func (v *visitor) collectCreated(stmts []*pg.RawStmt) {
	for _, raw := range stmts {
		n := raw.Stmt
		switch {
		case n.GetViewStmt() != nil:
			v.createdObjects[relName(n.GetViewStmt().View)] = true
		case n.GetCreateTableAsStmt() != nil && n.GetCreateTableAsStmt().Into != nil:
			v.createdObjects[relName(n.GetCreateTableAsStmt().Into.Rel)] = true
		case n.GetCreateFunctionStmt() != nil:
			v.createdObjects[lastName(n.GetCreateFunctionStmt().Funcname)] = true
		case n.GetCreateSeqStmt() != nil:
			v.createdObjects[relName(n.GetCreateSeqStmt().Sequence)] = true
		case n.GetCreateEnumStmt() != nil:
			v.createdObjects[lastName(n.GetCreateEnumStmt().TypeName)] = true
		case n.GetCompositeTypeStmt() != nil:
			v.createdObjects[relName(n.GetCompositeTypeStmt().Typevar)] = true
		case n.GetCreateDomainStmt() != nil:
			v.createdObjects[lastName(n.GetCreateDomainStmt().Domainname)] = true
		case n.GetCreateExtensionStmt() != nil:
			v.createdObjects[n.GetCreateExtensionStmt().Extname] = true
		}
	}
}

// needsLock reports a statement that takes a lock blocking reads or writes
// on an existing table; the first one in a file without lock_timeout is a
// missing-lock-timeout finding.
func (v *visitor) needsLock(what string) {
	if v.lockTimeout || v.lockFlagged {
		return
	}
	v.lockFlagged = true
	v.add(RuleLockTimeout, 0, "%s without SET lock_timeout earlier in the file", what)
}

func (v *visitor) stmt(n *pg.Node) {
	switch {
	case n.GetTransactionStmt() != nil:
		t := n.GetTransactionStmt()
		switch t.Kind {
		case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
			if !v.sawTx {
				v.sawTx = true
				v.add(RuleNestedTransaction, 0, "explicit BEGIN in a migration")
			}
			v.inTx = true
		case pg.TransactionStmtKind_TRANS_STMT_COMMIT, pg.TransactionStmtKind_TRANS_STMT_ROLLBACK,
			pg.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED, pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
			v.inTx = false
		}
	case n.GetVariableSetStmt() != nil:
		s := n.GetVariableSetStmt()
		if strings.EqualFold(s.Name, "lock_timeout") {
			v.lockTimeout = s.Kind == pg.VariableSetKind_VAR_SET_VALUE && !isZeroSetting(s.Args)
		}
	case n.GetCreateStmt() != nil:
		v.createTable(n.GetCreateStmt())
	case n.GetCreateTableAsStmt() != nil:
		if into := n.GetCreateTableAsStmt().Into; into != nil {
			v.created[relName(into.Rel)] = true
		}
	case n.GetAlterTableStmt() != nil:
		v.alterTable(n.GetAlterTableStmt())
	case n.GetAlterTableMoveAllStmt() != nil:
		s := n.GetAlterTableMoveAllStmt()
		v.add(RuleSetTablespace, 0, "ALTER … ALL IN TABLESPACE %s SET TABLESPACE %s", s.OrigTablespacename, s.NewTablespacename)
		v.needsLock("ALTER … SET TABLESPACE")
	case n.GetIndexStmt() != nil:
		s := n.GetIndexStmt()
		table := relName(s.Relation)
		switch {
		case s.Concurrent && v.inTx:
			v.add(RuleConcurrentlyInTx, 0, "CREATE INDEX CONCURRENTLY %s inside BEGIN … COMMIT", s.Idxname)
		case !s.Concurrent && !v.created[table]:
			v.add(RuleCreateIndex, 0, "CREATE INDEX %s on existing table %s without CONCURRENTLY", s.Idxname, table)
			v.needsLock("CREATE INDEX on " + table)
		}
	case n.GetDropStmt() != nil:
		v.drop(n.GetDropStmt())
	case n.GetDropdbStmt() != nil:
		v.add(RuleDropDatabase, 0, "DROP DATABASE %s", n.GetDropdbStmt().Dbname)
	case n.GetTruncateStmt() != nil:
		s := n.GetTruncateStmt()
		var names []string
		for _, r := range s.Relations {
			if name := relName(r.GetRangeVar()); !v.created[name] {
				names = append(names, name)
			}
		}
		if len(names) > 0 {
			v.add(RuleTruncate, 0, "TRUNCATE %s", strings.Join(names, ", "))
			v.needsLock("TRUNCATE")
		}
	case n.GetDeleteStmt() != nil:
		s := n.GetDeleteStmt()
		if s.WhereClause == nil && !v.created[relName(s.Relation)] {
			v.add(RuleDeleteWithoutWhere, 0, "DELETE FROM %s without WHERE", relName(s.Relation))
		}
	case n.GetUpdateStmt() != nil:
		s := n.GetUpdateStmt()
		if s.WhereClause == nil && !v.created[relName(s.Relation)] {
			v.add(RuleUpdateWithoutWhere, 0, "UPDATE %s without WHERE", relName(s.Relation))
		}
	case n.GetRenameStmt() != nil:
		v.rename(n.GetRenameStmt())
	case n.GetVacuumStmt() != nil:
		s := n.GetVacuumStmt()
		if s.IsVacuumcmd && hasOption(s.Options, "full") {
			v.add(RuleVacuumFull, 0, "VACUUM FULL")
			v.needsLock("VACUUM FULL")
		}
	case n.GetLockStmt() != nil:
		var names []string
		for _, r := range n.GetLockStmt().Relations {
			names = append(names, relName(r.GetRangeVar()))
		}
		v.add(RuleLockTable, 0, "LOCK TABLE %s", strings.Join(names, ", "))
		v.needsLock("LOCK TABLE")
	case n.GetClusterStmt() != nil:
		s := n.GetClusterStmt()
		what := "CLUSTER"
		if s.Relation != nil {
			what += " " + relName(s.Relation)
		}
		v.add(RuleCluster, 0, "%s", what)
		v.needsLock("CLUSTER")
	case n.GetReindexStmt() != nil:
		s := n.GetReindexStmt()
		conc := hasOption(s.Params, "concurrently")
		target := s.Name
		if s.Relation != nil {
			target = relName(s.Relation)
		}
		switch {
		case conc && v.inTx:
			v.add(RuleConcurrentlyInTx, 0, "REINDEX CONCURRENTLY %s inside BEGIN … COMMIT", target)
		case !conc:
			v.add(RuleReindex, 0, "REINDEX %s without CONCURRENTLY", target)
			v.needsLock("REINDEX")
		}
	case n.GetRefreshMatViewStmt() != nil:
		s := n.GetRefreshMatViewStmt()
		if !s.Concurrent && !v.created[relName(s.Relation)] && !v.createdObjects[relName(s.Relation)] {
			v.add(RuleRefreshMatview, 0, "REFRESH MATERIALIZED VIEW %s without CONCURRENTLY", relName(s.Relation))
			v.needsLock("REFRESH MATERIALIZED VIEW")
		}
	case n.GetAlterEnumStmt() != nil:
		s := n.GetAlterEnumStmt()
		if s.NewVal != "" && s.OldVal == "" && v.inTx && !v.createdObjects[lastName(s.TypeName)] {
			v.add(RuleEnumInTx, 0, "ALTER TYPE %s ADD VALUE '%s' inside BEGIN … COMMIT", lastName(s.TypeName), s.NewVal)
		}
	case n.GetCreateTrigStmt() != nil:
		if t := relName(n.GetCreateTrigStmt().Relation); !v.created[t] {
			v.needsLock("CREATE TRIGGER on " + t)
		}
	}
}

func (v *visitor) createTable(s *pg.CreateStmt) {
	table := relName(s.Relation)
	v.created[table] = true
	types := map[string]*pg.TypeName{}
	for _, elt := range s.TableElts {
		cd := elt.GetColumnDef()
		if cd == nil {
			continue
		}
		types[cd.Colname] = cd.TypeName
		v.columnType(table, cd.Colname, cd.TypeName, cd.Location)
		for _, c := range cd.Constraints {
			if con := c.GetConstraint(); con != nil && con.Contype == pg.ConstrType_CONSTR_PRIMARY {
				v.intKey(table, cd.Colname, cd.TypeName, cd.Location)
			}
		}
	}
	for _, elt := range append(append([]*pg.Node{}, s.TableElts...), s.Constraints...) {
		con := elt.GetConstraint()
		if con == nil || con.Contype != pg.ConstrType_CONSTR_PRIMARY {
			continue
		}
		for _, k := range con.Keys {
			col := k.GetString_().GetSval()
			if t, ok := types[col]; ok {
				v.intKey(table, col, t, con.Location)
			}
		}
	}
}

// columnType applies the column-type rules (char, timestamp, json).
func (v *visitor) columnType(table, col string, t *pg.TypeName, loc int32) {
	switch typeName(t) {
	case "bpchar":
		v.add(RuleCharColumn, loc, "column %s.%s is char(n)", table, col)
	case "timestamp":
		v.add(RuleTimestamp, loc, "column %s.%s is timestamp without time zone", table, col)
	case "json":
		v.add(RuleJSONColumn, loc, "column %s.%s is json", table, col)
	}
}

func (v *visitor) intKey(table, col string, t *pg.TypeName, loc int32) {
	switch typeName(t) {
	case "int4", "int2", "int", "integer", "smallint", "serial", "serial4", "serial2", "smallserial":
		v.add(RuleIntPrimaryKey, loc, "primary key %s.%s is a 32-bit %s", table, col, typeName(t))
	}
}

func (v *visitor) alterTable(s *pg.AlterTableStmt) {
	table := relName(s.Relation)
	isNew := v.created[table]
	locks := false
	for _, c := range s.Cmds {
		cmd := c.GetAlterTableCmd()
		if cmd == nil {
			continue
		}
		if cmd.Subtype != pg.AlterTableType_AT_ValidateConstraint {
			locks = true
		}
		switch cmd.Subtype {
		case pg.AlterTableType_AT_AddColumn:
			v.addColumn(table, isNew, cmd.Def.GetColumnDef())
		case pg.AlterTableType_AT_DropColumn:
			if !isNew {
				v.add(RuleDropColumn, 0, "DROP COLUMN %s on %s", cmd.Name, table)
			}
		case pg.AlterTableType_AT_AlterColumnType:
			cd := cmd.Def.GetColumnDef()
			if cd != nil {
				v.columnType(table, cmd.Name, cd.TypeName, cd.Location)
			}
			if !isNew {
				v.add(RuleChangeColumnType, 0, "ALTER COLUMN %s.%s TYPE %s", table, cmd.Name, typeName(cd.GetTypeName()))
			}
		case pg.AlterTableType_AT_SetNotNull:
			if !isNew {
				v.add(RuleSetNotNull, 0, "ALTER COLUMN %s.%s SET NOT NULL", table, cmd.Name)
			}
		case pg.AlterTableType_AT_DropNotNull:
			if !isNew {
				v.add(RuleDropNotNull, 0, "ALTER COLUMN %s.%s DROP NOT NULL", table, cmd.Name)
			}
		case pg.AlterTableType_AT_AddConstraint:
			if con := cmd.Def.GetConstraint(); con != nil && !isNew {
				v.constraint(table, con, "")
			}
		case pg.AlterTableType_AT_SetTableSpace:
			v.add(RuleSetTablespace, 0, "ALTER %s SET TABLESPACE %s", table, cmd.Name)
		case pg.AlterTableType_AT_DetachPartition:
			pc := cmd.Def.GetPartitionCmd()
			switch {
			case pc != nil && pc.Concurrent && v.inTx:
				v.add(RuleConcurrentlyInTx, 0, "DETACH PARTITION %s CONCURRENTLY inside BEGIN … COMMIT", relName(pc.Name))
			case pc != nil && !pc.Concurrent:
				v.add(RuleDetachPartition, 0, "DETACH PARTITION %s from %s without CONCURRENTLY", relName(pc.Name), table)
			}
		}
	}
	if locks && !isNew {
		v.needsLock("ALTER TABLE " + table)
	}
}

// addColumn applies the ADD COLUMN rules: rewrites, NOT NULL without a
// default, constraints that validate, and the column-type rules.
func (v *visitor) addColumn(table string, isNew bool, cd *pg.ColumnDef) {
	if cd == nil {
		return
	}
	v.columnType(table, cd.Colname, cd.TypeName, cd.Location)
	var hasDefault, notNull, generated, identity bool
	for _, c := range cd.Constraints {
		con := c.GetConstraint()
		if con == nil {
			continue
		}
		switch con.Contype {
		case pg.ConstrType_CONSTR_DEFAULT:
			hasDefault = true
			if f := volatileCall(con.RawExpr); f != "" && !isNew {
				v.add(RuleAddColumnVolatileDefault, cd.Location, "ADD COLUMN %s.%s DEFAULT %s()", table, cd.Colname, f)
			}
		case pg.ConstrType_CONSTR_NOTNULL:
			notNull = true
		case pg.ConstrType_CONSTR_GENERATED:
			generated = true
			if !isNew {
				v.add(RuleAddColumnGeneratedStored, cd.Location, "ADD COLUMN %s.%s GENERATED ALWAYS AS (…) STORED", table, cd.Colname)
			}
		case pg.ConstrType_CONSTR_IDENTITY:
			identity = true
		case pg.ConstrType_CONSTR_PRIMARY:
			v.intKey(table, cd.Colname, cd.TypeName, cd.Location)
			if !isNew {
				v.constraint(table, con, cd.Colname)
			}
		default:
			if !isNew {
				v.constraint(table, con, cd.Colname)
			}
		}
	}
	serial := strings.HasSuffix(typeName(cd.TypeName), "serial") || strings.HasPrefix(typeName(cd.TypeName), "serial")
	if (serial || identity) && !isNew {
		what := typeName(cd.TypeName)
		if identity {
			what += " GENERATED AS IDENTITY"
		}
		v.add(RuleAddColumnSerial, cd.Location, "ADD COLUMN %s.%s %s", table, cd.Colname, what)
	}
	if notNull && !hasDefault && !generated && !identity && !serial && !isNew {
		v.add(RuleAddColumnNotNull, cd.Location, "ADD COLUMN %s.%s NOT NULL without DEFAULT", table, cd.Colname)
	}
}

// constraint applies the rules for adding a constraint to an existing table.
func (v *visitor) constraint(table string, con *pg.Constraint, col string) {
	label := func(kind string) string {
		switch {
		case con.Conname != "":
			return kind + " " + con.Conname
		case col != "":
			return kind + " on column " + col
		}
		return kind
	}
	switch con.Contype {
	case pg.ConstrType_CONSTR_FOREIGN:
		if !con.SkipValidation {
			v.add(RuleForeignKey, con.Location, "%s on %s references %s without NOT VALID", label("FOREIGN KEY"), table, relName(con.Pktable))
		}
	case pg.ConstrType_CONSTR_CHECK:
		if !con.SkipValidation {
			v.add(RuleCheck, con.Location, "%s on %s without NOT VALID", label("CHECK"), table)
		}
	case pg.ConstrType_CONSTR_UNIQUE:
		if con.Indexname == "" {
			v.add(RuleUnique, con.Location, "%s on %s without USING INDEX", label("UNIQUE"), table)
		}
	case pg.ConstrType_CONSTR_PRIMARY:
		if con.Indexname == "" {
			v.add(RulePrimaryKey, con.Location, "%s on %s without USING INDEX", label("PRIMARY KEY"), table)
		}
	case pg.ConstrType_CONSTR_EXCLUSION:
		v.add(RuleExclusion, con.Location, "%s on %s", label("EXCLUDE"), table)
	}
}

func (v *visitor) drop(s *pg.DropStmt) {
	names := make([]string, 0, len(s.Objects))
	for _, o := range s.Objects {
		names = append(names, objectName(o))
	}
	list := strings.Join(names, ", ")
	switch s.RemoveType {
	case pg.ObjectType_OBJECT_TABLE:
		v.add(RuleDropTable, 0, "DROP TABLE %s", list)
		v.needsLock("DROP TABLE")
	case pg.ObjectType_OBJECT_INDEX:
		switch {
		case s.Concurrent && v.inTx:
			v.add(RuleConcurrentlyInTx, 0, "DROP INDEX CONCURRENTLY %s inside BEGIN … COMMIT", list)
		case !s.Concurrent:
			v.add(RuleDropIndex, 0, "DROP INDEX %s without CONCURRENTLY", list)
			v.needsLock("DROP INDEX")
		}
	case pg.ObjectType_OBJECT_SCHEMA:
		v.add(RuleDropSchema, 0, "DROP SCHEMA %s", list)
	case pg.ObjectType_OBJECT_VIEW, pg.ObjectType_OBJECT_MATVIEW, pg.ObjectType_OBJECT_FUNCTION,
		pg.ObjectType_OBJECT_PROCEDURE, pg.ObjectType_OBJECT_SEQUENCE, pg.ObjectType_OBJECT_TYPE,
		pg.ObjectType_OBJECT_DOMAIN, pg.ObjectType_OBJECT_EXTENSION:
		var dropped []string
		for _, n := range names {
			if !v.createdObjects[n] {
				dropped = append(dropped, n)
			}
		}
		if len(dropped) > 0 {
			kind := strings.ReplaceAll(strings.TrimPrefix(s.RemoveType.String(), "OBJECT_"), "MATVIEW", "MATERIALIZED VIEW")
			v.add(RuleDropObject, 0, "DROP %s %s", kind, strings.Join(dropped, ", "))
		}
	}
}

func (v *visitor) rename(s *pg.RenameStmt) {
	table := relName(s.Relation)
	if v.created[table] {
		return
	}
	switch s.RenameType {
	case pg.ObjectType_OBJECT_TABLE:
		v.add(RuleRenameTable, 0, "RENAME TABLE %s TO %s", table, s.Newname)
		v.needsLock("ALTER TABLE " + table + " RENAME")
	case pg.ObjectType_OBJECT_COLUMN:
		if s.RelationType == pg.ObjectType_OBJECT_TABLE {
			v.add(RuleRenameColumn, 0, "RENAME COLUMN %s.%s TO %s", table, s.Subname, s.Newname)
			v.needsLock("ALTER TABLE " + table + " RENAME COLUMN")
		}
	}
}

// volatileFuncs are the common volatile functions a column default may
// call; such a default makes ADD COLUMN rewrite the table.
var volatileFuncs = map[string]bool{
	"random": true, "gen_random_uuid": true, "uuid_generate_v1": true, "uuid_generate_v1mc": true,
	"uuid_generate_v4": true, "uuidv4": true, "uuidv7": true, "uuid_generate_v7": true, "clock_timestamp": true, "timeofday": true,
	"nextval": true, "txid_current": true, "setseed": true, "random_normal": true,
}

// volatileCall returns the name of a volatile function called anywhere in
// the expression, or "".
func volatileCall(n *pg.Node) string {
	if n == nil {
		return ""
	}
	found := ""
	walkMessages(n.ProtoReflect(), func(m protoreflect.Message) bool {
		if fc, ok := m.Interface().(*pg.FuncCall); ok {
			if name := lastName(fc.Funcname); volatileFuncs[name] {
				found = name
				return false
			}
		}
		return found == ""
	})
	return found
}

// walkMessages visits m and every message below it until fn returns false.
func walkMessages(m protoreflect.Message, fn func(protoreflect.Message) bool) bool {
	if !fn(m) {
		return false
	}
	ok := true
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := val.List()
			for i := 0; i < l.Len() && ok; i++ {
				ok = walkMessages(l.Get(i).Message(), fn)
			}
		case fd.Message() != nil && !fd.IsMap():
			ok = walkMessages(val.Message(), fn)
		}
		return ok
	})
	return ok
}

func hasOption(opts []*pg.Node, name string) bool {
	for _, o := range opts {
		if d := o.GetDefElem(); d != nil && strings.EqualFold(d.Defname, name) {
			if d.Arg == nil {
				return true
			}
			// VACUUM (FULL false) and the like.
			if b := d.Arg.GetBoolean(); b != nil {
				return b.Boolval
			}
			if s := d.Arg.GetString_(); s != nil {
				return !strings.EqualFold(s.Sval, "false") && !strings.EqualFold(s.Sval, "off")
			}
			if i := d.Arg.GetInteger(); i != nil {
				return i.Ival != 0
			}
			return true
		}
	}
	return false
}

// isZeroSetting reports SET x = 0 (or '0'), which disables a timeout.
func isZeroSetting(args []*pg.Node) bool {
	if len(args) != 1 {
		return false
	}
	c := args[0].GetAConst()
	if c == nil {
		return false
	}
	if i := c.GetIval(); i != nil {
		return i.Ival == 0
	}
	if s := c.GetSval(); s != nil {
		v := strings.TrimSpace(s.Sval)
		return v == "0" || v == "0ms" || v == "0s"
	}
	return false
}

func relName(r *pg.RangeVar) string {
	if r == nil {
		return ""
	}
	if r.Schemaname != "" {
		return r.Schemaname + "." + r.Relname
	}
	return r.Relname
}

func lastName(names []*pg.Node) string {
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1].GetString_().GetSval()
}

// typeName is the last part of a type's name as the parser resolved it:
// int4, bpchar, timestamp, serial…
func typeName(t *pg.TypeName) string {
	if t == nil {
		return ""
	}
	return lastName(t.Names)
}

// objectName names a dropped object: a qualified name list, a function with
// arguments, or a bare string.
func objectName(n *pg.Node) string {
	switch {
	case n.GetList() != nil:
		return lastName(n.GetList().Items)
	case n.GetObjectWithArgs() != nil:
		return lastName(n.GetObjectWithArgs().Objname)
	case n.GetString_() != nil:
		return n.GetString_().Sval
	case n.GetTypeName() != nil:
		return typeName(n.GetTypeName())
	}
	return "?"
}

// parseAnnotations finds `-- tandem:allow rule[,rule…] reason` comments.
func parseAnnotations(src string) ([]Annotation, []Finding) {
	const marker = "tandem:allow"
	var anns []Annotation
	var bad []Finding
	if !strings.Contains(src, marker) {
		return nil, nil
	}
	line := 0
	for rest := src; rest != ""; {
		line++
		l := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		t := strings.TrimSpace(l)
		c, ok := strings.CutPrefix(t, "--")
		if !ok {
			continue
		}
		c = strings.TrimSpace(c)
		body, ok := strings.CutPrefix(c, marker)
		if !ok {
			continue
		}
		col := strings.Index(l, marker) + 1
		fields := strings.Fields(body)
		if len(fields) == 0 {
			bad = append(bad, Finding{Line: line, Column: col, Rule: CheckAnnotation, Message: "tandem:allow names no rule"})
			continue
		}
		var rules []string
		ok = true
		for _, id := range strings.Split(fields[0], ",") {
			if id == "" {
				continue
			}
			if _, known := RuleByID(id); !known {
				bad = append(bad, Finding{Line: line, Column: col, Rule: CheckAnnotation, Message: fmt.Sprintf("tandem:allow names unknown rule %q", id)})
				ok = false
				continue
			}
			rules = append(rules, id)
		}
		reason := strings.TrimSpace(strings.Join(fields[1:], " "))
		if reason == "" {
			bad = append(bad, Finding{Line: line, Column: col, Rule: CheckAnnotation, Message: "tandem:allow " + fields[0] + " gives no reason"})
			continue
		}
		if ok && len(rules) > 0 {
			anns = append(anns, Annotation{Line: line, Rules: rules, Reason: reason})
		}
	}
	for i := range bad {
		c, _ := ruleOrCheck(bad[i].Rule)
		bad[i].Why, bad[i].Alternative = c.Why, c.Alternative
	}
	return anns, bad
}

func ruleOrCheck(id string) (Rule, bool) {
	if r, ok := RuleByID(id); ok {
		return r, true
	}
	for _, c := range Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Rule{}, false
}

// maskPlaceholders replaces Flyway placeholders ${name} with an identifier
// of the same length, so the SQL parses and offsets stay.
func maskPlaceholders(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	b := []byte(s)
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '$' || b[i+1] != '{' {
			continue
		}
		j := i + 2
		for j < len(b) && b[j] != '}' && b[j] != '\n' {
			j++
		}
		if j >= len(b) || b[j] != '}' {
			continue
		}
		for k := i; k <= j; k++ {
			b[k] = 'p'
		}
		i = j
	}
	return string(b)
}

// skipSpaceAndComments returns the offset of the first token at or after i.
func skipSpaceAndComments(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			depth, j := 0, i
			for j < len(s) {
				if strings.HasPrefix(s[j:], "/*") {
					depth++
					j += 2
				} else if strings.HasPrefix(s[j:], "*/") {
					depth--
					j += 2
					if depth == 0 {
						break
					}
				} else {
					j++
				}
			}
			i = j
		default:
			return i
		}
	}
	return i
}

// charToByte turns a character index (PostgreSQL's cursor position counts
// characters) into a byte offset.
func charToByte(s string, chars int) int {
	off := 0
	for n := 0; n < chars && off < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// lineIndex maps byte offsets to 1-based lines and columns.
type lineIndex []int // offsets of line starts

func newLineIndex(s string) lineIndex {
	idx := lineIndex{0}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l lineIndex) pos(off int) (line, col int) {
	i := sort.Search(len(l), func(i int) bool { return l[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, off - l[i] + 1
}

package migration

// Class is how dangerous a migration is. A migration's class is the worst
// class of its findings; a migration without findings is safe.
type Class string

// The three classes, in increasing order of danger.
const (
	Safe Class = "safe"
	// Risky migrations lock or rewrite tables, scan them under a lock, or
	// fail on some data; the lint warns.
	Risky Class = "risky"
	// Destructive migrations lose data or break the code that is running;
	// the lint fails unless an undo script or an allow annotation exists.
	Destructive Class = "destructive"
	// Unknown is the class of a file that could not be judged: unreadable,
	// misnamed, or not valid SQL. Such a file always has an error finding.
	Unknown Class = "unknown"
)

func (c Class) rank() int {
	switch c {
	case Destructive:
		return 2
	case Risky:
		return 1
	case Safe:
		return 0
	}
	return -1
}

// Worse returns the more dangerous of c and d; Unknown loses to any class.
func (c Class) Worse(d Class) Class {
	if d.rank() > c.rank() {
		return d
	}
	return c
}

// Rule is one lint rule: what it flags, why that is dangerous and what to do
// instead. The same text is the rule table of docs/migrations.md.
type Rule struct {
	ID          string `json:"id"`
	Class       Class  `json:"class"`
	Why         string `json:"why"`
	Alternative string `json:"alternative"`
}

// Rule ids.
const (
	RuleDropTable                = "drop-table"
	RuleDropColumn               = "drop-column"
	RuleDropSchema               = "drop-schema"
	RuleDropDatabase             = "drop-database"
	RuleTruncate                 = "truncate"
	RuleDeleteWithoutWhere       = "delete-without-where"
	RuleUpdateWithoutWhere       = "update-without-where"
	RuleRenameTable              = "rename-table"
	RuleRenameColumn             = "rename-column"
	RuleChangeColumnType         = "change-column-type"
	RuleSetNotNull               = "set-not-null"
	RuleDropNotNull              = "drop-not-null"
	RuleAddColumnVolatileDefault = "add-column-volatile-default"
	RuleAddColumnGeneratedStored = "add-column-generated-stored"
	RuleAddColumnSerial          = "add-column-serial"
	RuleAddColumnNotNull         = "add-column-not-null-without-default"
	RuleCreateIndex              = "create-index-non-concurrent"
	RuleDropIndex                = "drop-index-non-concurrent"
	RuleReindex                  = "reindex-non-concurrent"
	RuleConcurrentlyInTx         = "concurrently-in-transaction"
	RuleForeignKey               = "add-foreign-key-without-not-valid"
	RuleCheck                    = "add-check-without-not-valid"
	RuleUnique                   = "add-unique-constraint"
	RulePrimaryKey               = "add-primary-key"
	RuleExclusion                = "add-exclusion-constraint"
	RuleVacuumFull               = "vacuum-full"
	RuleLockTable                = "lock-table"
	RuleCluster                  = "cluster"
	RuleSetTablespace            = "set-tablespace"
	RuleRefreshMatview           = "refresh-matview-non-concurrent"
	RuleDetachPartition          = "detach-partition-non-concurrent"
	RuleEnumInTx                 = "enum-add-value-in-transaction"
	RuleNestedTransaction        = "transaction-in-migration"
	RuleLockTimeout              = "missing-lock-timeout"
	RuleDropObject               = "drop-object"
	RuleCharColumn               = "char-column"
	RuleTimestamp                = "timestamp-without-time-zone"
	RuleIntPrimaryKey            = "int-primary-key"
	RuleJSONColumn               = "json-column"
)

// Checks on files rather than statements. They have no class: their
// findings are errors (the migration cannot be judged or will not run as
// meant) or, for undo-without-versioned, warnings.
const (
	CheckSyntax            = "syntax-error"
	CheckFileName          = "file-name"
	CheckDuplicateVersion  = "duplicate-version"
	CheckUndoWithoutTarget = "undo-without-versioned"
	CheckAnnotation        = "invalid-annotation"
	CheckUnreadable        = "unreadable-file"
)

// Rules is every statement rule, in the order of docs/migrations.md.
var Rules = []Rule{
	{RuleDropTable, Destructive,
		"Deletes the table and every row in it; code still deployed that reads or writes it fails.",
		"Stop using the table in a release first, keep a backup (or rename it to <name>_deprecated), drop it in a later migration with an undo script."},
	{RuleDropColumn, Destructive,
		"Deletes the column's data; running code that selects or inserts it fails until the new release is out everywhere.",
		"Stop reading and writing the column in one release, drop it in a later one; add an undo script that restores it."},
	{RuleDropSchema, Destructive,
		"Deletes the schema and, with CASCADE, every table, view and function in it.",
		"Drop the objects one by one after checking nothing uses them, with an undo script."},
	{RuleDropDatabase, Destructive,
		"Deletes a whole database.",
		"Never from a migration: do it by hand after a verified backup."},
	{RuleTruncate, Destructive,
		"Deletes every row at once under an ACCESS EXCLUSIVE lock; CASCADE empties referencing tables too.",
		"Delete in small batches with a WHERE clause, or move the data to an archive table first."},
	{RuleDeleteWithoutWhere, Destructive,
		"Deletes every row of the table and holds row locks on all of them until the migration commits.",
		"Add a WHERE clause; for large deletes, delete in batches outside the schema migration."},
	{RuleUpdateWithoutWhere, Destructive,
		"Overwrites a value in every row, locking all rows until commit and bloating the table.",
		"Add a WHERE clause; backfill in batches (UPDATE … WHERE id BETWEEN …) outside the schema migration."},
	{RuleRenameTable, Destructive,
		"Code still deployed uses the old name and fails at once.",
		"Create the new table (or a view with the new name), write to both, switch readers, drop the old name in a later release."},
	{RuleRenameColumn, Destructive,
		"Code still deployed uses the old column name and fails at once.",
		"Add the new column, write to both, backfill, switch readers, drop the old column in a later release."},
	{RuleChangeColumnType, Risky,
		"Most type changes rewrite the table and its indexes under an ACCESS EXCLUSIVE lock, blocking reads and writes; narrowing can fail on existing data.",
		"Add a column of the new type, backfill it in batches, switch the code, drop the old column later. (varchar(n) to text or a longer varchar is metadata-only.)"},
	{RuleSetNotNull, Risky,
		"Scans the whole table under an ACCESS EXCLUSIVE lock to check for NULLs.",
		"ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT in a later migration; on PostgreSQL 12+ SET NOT NULL then uses the valid constraint and skips the scan."},
	{RuleDropNotNull, Risky,
		"The column may now hold NULLs that code still deployed (and a rollback) does not expect.",
		"Make sure every reader handles NULL before dropping the constraint."},
	{RuleAddColumnVolatileDefault, Risky,
		"A volatile default (random(), gen_random_uuid(), clock_timestamp(), nextval()) is evaluated per row, so the table is rewritten under an ACCESS EXCLUSIVE lock.",
		"Add the column without a default (or with a constant one), set the default afterwards, backfill existing rows in batches."},
	{RuleAddColumnGeneratedStored, Risky,
		"A stored generated column is computed for every existing row: a full rewrite under an ACCESS EXCLUSIVE lock.",
		"Add a plain column, fill it with a trigger and a batched backfill, or compute the value in a view."},
	{RuleAddColumnSerial, Risky,
		"serial / bigserial default to nextval(), which is volatile: the table is rewritten under an ACCESS EXCLUSIVE lock.",
		"Add a bigint column, attach a sequence with ALTER COLUMN … SET DEFAULT nextval(…), backfill existing rows in batches."},
	{RuleAddColumnNotNull, Risky,
		"Fails on a table that has rows, and inserts from code still deployed (which do not set the column) fail.",
		"Add the column nullable (or with a constant DEFAULT), backfill, then add the NOT NULL constraint safely."},
	{RuleCreateIndex, Risky,
		"CREATE INDEX without CONCURRENTLY blocks every write to the table for as long as the build takes.",
		"CREATE INDEX CONCURRENTLY, outside a transaction (a migration of its own)."},
	{RuleDropIndex, Risky,
		"DROP INDEX takes an ACCESS EXCLUSIVE lock on the table, blocking reads and writes while it waits and runs.",
		"DROP INDEX CONCURRENTLY, outside a transaction."},
	{RuleReindex, Risky,
		"REINDEX without CONCURRENTLY blocks writes to the table (and reads that use the index) for the whole rebuild.",
		"REINDEX … CONCURRENTLY (PostgreSQL 12+), outside a transaction."},
	{RuleConcurrentlyInTx, Risky,
		"CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY cannot run inside a transaction block: the migration fails.",
		"Put the concurrent statement in a migration of its own without BEGIN/COMMIT (Flyway then runs it outside a transaction)."},
	{RuleForeignKey, Risky,
		"Validating a new foreign key scans the whole table while holding SHARE ROW EXCLUSIVE locks on both tables, blocking writes.",
		"ADD CONSTRAINT … FOREIGN KEY … NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT in a later migration (it takes a weaker lock)."},
	{RuleCheck, Risky,
		"Validating a new check constraint scans the whole table under an ACCESS EXCLUSIVE lock.",
		"ADD CONSTRAINT … CHECK (…) NOT VALID, then VALIDATE CONSTRAINT in a later migration."},
	{RuleUnique, Risky,
		"Adding a UNIQUE constraint builds its index under an ACCESS EXCLUSIVE lock, blocking reads and writes.",
		"CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING INDEX."},
	{RulePrimaryKey, Risky,
		"Adding a primary key builds its index (and checks NOT NULL) under an ACCESS EXCLUSIVE lock.",
		"CREATE UNIQUE INDEX CONCURRENTLY, make the columns NOT NULL safely, then ADD CONSTRAINT … PRIMARY KEY USING INDEX."},
	{RuleExclusion, Risky,
		"An EXCLUDE constraint builds its index under an ACCESS EXCLUSIVE lock and cannot be added NOT VALID or USING INDEX.",
		"Add it while the table is small, or in a maintenance window; enforce the rule in code meanwhile."},
	{RuleVacuumFull, Risky,
		"VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock, blocking reads and writes for the whole rewrite.",
		"Plain VACUUM, or pg_repack / pg_squeeze to reclaim space online."},
	{RuleLockTable, Risky,
		"An explicit table lock blocks other sessions until the migration commits, and queues everything behind it.",
		"Rely on the locks the statements take themselves, with a short lock_timeout."},
	{RuleCluster, Risky,
		"CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock.",
		"pg_repack --order-by, online, outside the migration."},
	{RuleSetTablespace, Risky,
		"Moving a table or index to another tablespace copies it under an ACCESS EXCLUSIVE lock.",
		"pg_repack --tablespace, or move the data during a maintenance window."},
	{RuleRefreshMatview, Risky,
		"REFRESH MATERIALIZED VIEW without CONCURRENTLY locks the view against reads for the whole refresh.",
		"REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view)."},
	{RuleDetachPartition, Risky,
		"DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the parent table.",
		"ALTER TABLE … DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+), outside a transaction."},
	{RuleEnumInTx, Risky,
		"ALTER TYPE … ADD VALUE inside a transaction block fails before PostgreSQL 12, and later the new value cannot be used until the transaction commits.",
		"Add enum values in a migration of their own, without BEGIN/COMMIT, and use them in the next one."},
	{RuleNestedTransaction, Risky,
		"Flyway already runs each migration in a transaction; an explicit COMMIT ends it early, so a later failure leaves the migration half applied and recorded as failed.",
		"Drop BEGIN/COMMIT and let Flyway manage the transaction; split work that must commit separately into several migrations."},
	{RuleLockTimeout, Risky,
		"A statement that needs a strong lock on a busy table waits behind long queries, and every query on the table queues behind it: an outage without any error.",
		"Start the migration with SET lock_timeout = '2s' (and retry on timeout) so it gives up instead of blocking traffic."},
	{RuleDropObject, Risky,
		"Dropping a view, function, sequence, type, domain or extension breaks code still deployed that uses it.",
		"Stop using it in a release first, then drop it in a later migration (a repeatable migration recreates views and functions)."},
	{RuleCharColumn, Risky,
		"char(n) pads values with blanks and is no faster than text; comparisons and lengths surprise.",
		"text (with a CHECK on length if needed)."},
	{RuleTimestamp, Risky,
		"timestamp without time zone stores wall-clock time with no zone; values shift meaning across servers and DST.",
		"timestamptz."},
	{RuleIntPrimaryKey, Risky,
		"A 32-bit key (int, serial) runs out at 2,147,483,647 rows, and widening it later rewrites the table and every referencing key.",
		"bigint (bigint GENERATED ALWAYS AS IDENTITY or bigserial) from the start."},
	{RuleJSONColumn, Risky,
		"json has no equality operator (SELECT DISTINCT and UNION fail) and is re-parsed on every access.",
		"jsonb."},
}

// RuleByID returns the rule with the id.
func RuleByID(id string) (Rule, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Checks describes the file checks (they have no class), for documentation
// and SARIF.
var Checks = []Rule{
	{ID: CheckSyntax, Why: "The file is not valid PostgreSQL: the migration will fail and nothing in it can be judged.", Alternative: "Fix the SQL at the reported line."},
	{ID: CheckFileName, Why: "A .sql file whose name is not V<version>__<description>.sql, U<version>__<description>.sql or R__<description>.sql is silently skipped by Flyway.", Alternative: "Rename it to Flyway's pattern."},
	{ID: CheckDuplicateVersion, Why: "Two versioned migrations with the same version (1.1 and 1_1 and 01.1 are the same): Flyway refuses to run.", Alternative: "Give one of them the next free version."},
	{ID: CheckUndoWithoutTarget, Why: "An undo script for a version that has no versioned migration never runs.", Alternative: "Rename it to the version it undoes, or delete it."},
	{ID: CheckAnnotation, Why: "A tandem:allow annotation that names no known rule or gives no reason allows nothing.", Alternative: "Write -- tandem:allow <rule-id> <reason>."},
	{ID: CheckUnreadable, Why: "The file could not be read.", Alternative: "Check its permissions and encoding."},
}

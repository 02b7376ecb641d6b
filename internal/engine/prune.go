package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/internal/db"
)

// DefaultRetention is how long finished jobs are kept when the config says
// nothing (incidents.job_retention).
const DefaultRetention = 30 * 24 * time.Hour

// pruneBatch bounds the rows one prune transaction deletes, so the single
// SQLite writer is never held for long.
const pruneBatch = 500

// Prune deletes the jobs that finished (done or failed) before before and
// returns how many. Each pruned job's idempotency key moves to job_keys in
// the same transaction, so Enqueue still refuses it: deduplication is the
// same after pruning as before. Queued and running jobs are never pruned.
func Prune(ctx context.Context, d *db.DB, before time.Time) (int, error) {
	total := 0
	for {
		n := 0
		err := d.InTx(ctx, func(tx *db.Tx) error {
			n = 0
			rows, err := tx.Query(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN (?, ?) AND finished_at > 0 AND finished_at < ? ORDER BY id LIMIT ?)
				RETURNING key, kind, finished_at`, StateDone, StateFailed, before.UnixMilli(), pruneBatch)
			if err != nil {
				return err
			}
			type kept struct {
				key, kind string
				at        int64
			}
			var ks []kept
			for rows.Next() {
				var k kept
				if err := rows.Scan(&k.key, &k.kind, &k.at); err != nil {
					rows.Close()
					return err
				}
				ks = append(ks, k)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(ks) == 0 {
				return nil
			}
			ins, err := tx.Prepare(ctx, `INSERT INTO job_keys (key, kind, finished_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`)
			if err != nil {
				return err
			}
			defer ins.Close()
			for _, k := range ks {
				if _, err := ins.ExecContext(ctx, k.key, k.kind, k.at); err != nil {
					return err
				}
			}
			n = len(ks)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("prune jobs: %w", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

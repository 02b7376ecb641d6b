package migration

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AppNamePrefix starts the PostgreSQL application_name the migration gate
// gives the migration it runs (PGAPPNAME=tandem-gate-<id>), so that its
// database sessions can be found and stopped.
const AppNamePrefix = "tandem-gate-"

// Stopped says what StopBackends did.
type Stopped struct {
	// Cancelled is how many backends had their query cancelled;
	// Terminated how many were still there after the grace and were ended.
	Cancelled, Terminated int
}

// StopBackends stops the database work of every PostgreSQL session whose
// application_name is app (the caller's own session aside): it cancels the
// running query of each (pg_cancel_backend), waits up to grace for them to
// leave, then ends the sessions still there (pg_terminate_backend) and
// waits up to grace again for them to be gone (an error if some are not). A
// killed client alone does not stop its query: PostgreSQL notices the
// closed connection only when it next talks to it, so a 60-second
// statement runs to its end. The caller needs the privileges those
// functions ask for (the same role, or pg_signal_backend).
func StopBackends(ctx context.Context, url, app string, grace time.Duration) (Stopped, error) {
	var out Stopped
	if app == "" {
		return out, fmt.Errorf("stop backends: no application name")
	}
	d, err := sql.Open("pgx", url)
	if err != nil {
		return out, fmt.Errorf("open database: %w", err)
	}
	defer d.Close()
	const mine = `FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`
	if err := d.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) `+mine+` AND state = 'active'`, app).Scan(&out.Cancelled); err != nil {
		return out, fmt.Errorf("cancel the queries of %s: %w", app, err)
	}
	// waitGone polls until no session of app is left or the grace passes;
	// it reports how many are left.
	waitGone := func() (int, error) {
		deadline := time.Now().Add(grace)
		for {
			var left int
			if err := d.QueryRowContext(ctx, `SELECT count(*) `+mine, app).Scan(&left); err != nil {
				return 0, fmt.Errorf("read the sessions of %s: %w", app, err)
			}
			if left == 0 || !time.Now().Before(deadline) {
				return left, nil
			}
			t := time.NewTimer(50 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err()
			case <-t.C:
			}
		}
	}
	if left, err := waitGone(); err != nil || left == 0 {
		return out, err
	}
	if err := d.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) `+mine, app).Scan(&out.Terminated); err != nil {
		return out, fmt.Errorf("end the sessions of %s: %w", app, err)
	}
	// pg_terminate_backend signals; the session leaves a moment later.
	if left, err := waitGone(); err != nil {
		return out, err
	} else if left > 0 {
		return out, fmt.Errorf("%d sessions of %s still there %s after pg_terminate_backend", left, app, grace)
	}
	return out, nil
}

// Package engine runs tandem's durable jobs: escalation steps, notifications
// and any other background work that must survive a crash and must not run
// twice.
//
// A job is a row in the jobs table. It is created with Enqueue inside the
// transaction of the event that causes it, so the event and its job commit
// together or not at all, and it carries an idempotency key: enqueuing the
// same key twice leaves the first job alone.
//
// Two kinds of handler exist:
//
//   - A Handler (Register) runs outside any transaction, for work with side
//     effects outside the database (sending a page). The job is claimed with
//     a lease: the claim commits before the handler runs, and if the worker
//     dies the lease expires and another worker retries it. Delivery is
//     therefore at least once; a crash after the side effect and before the
//     job is recorded done runs it again (see docs/oncall.md).
//   - A TxHandler (RegisterTx) runs inside the transaction that marks the job
//     done, for work that only writes to the database (an escalation step that
//     checks the incident and enqueues notification jobs). Its effects and the
//     job's completion commit together, so it takes effect exactly once.
//
// Claims use SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so several
// replicas share the queue without running a job twice; SQLite has a single
// writer, which serialises claims by itself.
//
// A handler's error retries the job with exponential backoff and jitter, up
// to the job's MaxAttempts; Permanent(err) gives up at once. An error that
// says the work was held back rather than tried (see Deferral: a rate limit
// that allows the next message in 40 s) requeues the job for then without
// spending an attempt. A panic in a handler is recovered and counts as an
// error. Each run has a timeout.
package engine

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
)

// Job states as stored and shown by the API.
const (
	StateQueued  = "queued"  // waiting for its run_at, or for a retry
	StateRunning = "running" // claimed by a worker holding a lease
	StateDone    = "done"    // the handler returned nil
	StateFailed  = "failed"  // permanent error, or out of attempts
)

// DefaultMaxAttempts is used when NewJob.MaxAttempts is 0.
const DefaultMaxAttempts = 10

// NewJob is a job to enqueue.
type NewJob struct {
	Kind string
	// Key is the idempotency key: a second job with the same key is not
	// created. Keys are global, so prefix them with the kind's domain.
	Key string
	// Payload is encoded as JSON and handed back as Job.Payload.
	Payload any
	// RunAt is when the job becomes due; the zero time means at once.
	RunAt time.Time
	// MaxAttempts bounds the runs (0 = DefaultMaxAttempts).
	MaxAttempts int
}

// Job is a claimed job handed to a handler.
type Job struct {
	ID       int64
	Kind     string
	Key      string
	Payload  json.RawMessage
	RunAt    time.Time
	Attempts int // this run's number, starting at 1

	lag time.Duration // from RunAt to the claim, on the database's clock
}

// Info is a job as the API shows it.
type Info struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Key         string          `json:"key"`
	State       string          `json:"state"`
	Payload     json.RawMessage `json:"payload"`
	RunAt       time.Time       `json:"run_at"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
}

// Handler runs a job outside any transaction. nil marks it done; an error
// retries it with backoff; Permanent(err) marks it failed at once.
type Handler func(ctx context.Context, j Job) error

// TxHandler runs a job inside the transaction that marks it done: its
// writes and the job's completion commit together. It must use only tx for
// database work (on SQLite any other write would wait for tx's lock).
type TxHandler func(ctx context.Context, tx *db.Tx, j Job) error

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so the engine does not retry the job.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Deferral is implemented by errors that mean "not tried: try again after
// RetryAfter", such as a send held back by the channel's rate limit. A
// handler returning one (RetryAfter > 0) has its job requeued for then,
// and the attempt is given back: a held-back page must not run out of
// attempts while it waits its turn.
type Deferral interface {
	error
	RetryAfter() time.Duration
}

// A Deferral whose work was tried (a provider answered "come back in 30 s")
// also implements Attempted() bool, true: the job comes back when asked,
// but the attempt counts, so a provider that never accepts cannot keep a
// job alive forever.
type attempted interface{ Attempted() bool }

// deferral returns how long err asks to wait without spending the attempt,
// or 0.
func deferral(err error) time.Duration {
	var d Deferral
	if errors.As(err, &d) && !IsPermanent(err) {
		if a, ok := d.(attempted); ok && a.Attempted() {
			return 0
		}
		return max(d.RetryAfter(), 0)
	}
	return 0
}

// retryAfter returns the wait any Deferral in err asks for, or 0.
func retryAfter(err error) time.Duration {
	var d Deferral
	if errors.As(err, &d) {
		return max(d.RetryAfter(), 0)
	}
	return 0
}

type finishKey struct{}

// finisher collects the writes a Handler asks to commit with its outcome.
type finisher struct {
	mu  sync.Mutex
	fns []func(context.Context, *db.Tx) error
}

// OnFinish asks that fn run in the transaction that records the outcome of
// the Handler job whose ctx this is (done, retry or failed), so a record of
// the run (a timeline entry) costs no commit of its own. It reports false
// when ctx is not a Handler's; the caller then writes on its own.
func OnFinish(ctx context.Context, fn func(ctx context.Context, tx *db.Tx) error) bool {
	f, ok := ctx.Value(finishKey{}).(*finisher)
	if !ok {
		return false
	}
	f.mu.Lock()
	f.fns = append(f.fns, fn)
	f.mu.Unlock()
	return true
}

// Enqueue adds a job inside the caller's transaction. A job whose Key exists
// already, or existed and was pruned (see Prune), is left alone and false
// is returned. RunAt is stored in Unix ms.
func Enqueue(ctx context.Context, tx *db.Tx, j NewJob) (bool, error) {
	return insertJob(ctx, tx, j, StateQueued)
}

// EnqueueDone records, in the caller's transaction, a job whose work the
// caller does in that same transaction: the row is stored done, so its key
// is taken (a second EnqueueDone or Enqueue of it is a no-op) and the job
// is listed like any other. It reports whether the key was new; when it is
// not, the caller must not do the work again.
func EnqueueDone(ctx context.Context, tx *db.Tx, j NewJob) (bool, error) {
	return insertJob(ctx, tx, j, StateDone)
}

// insertJob stores j in state (queued, or done by its caller in tx) unless
// its key is taken: by a job, or by a pruned job's key kept in job_keys.
func insertJob(ctx context.Context, tx *db.Tx, j NewJob, state string) (bool, error) {
	if j.Kind == "" || j.Key == "" {
		return false, fmt.Errorf("enqueue: kind and key are required")
	}
	payload, err := json.Marshal(j.Payload)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: encode payload: %w", j.Kind, err)
	}
	max := j.MaxAttempts
	if max <= 0 {
		max = DefaultMaxAttempts
	}
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = time.UnixMilli(0)
	}
	now := tx.Dialect().NowMillis()
	cols, vals := "", ""
	if state == StateDone {
		cols, vals = ", attempts, finished_at", ", 1, "+now
	}
	res, err := tx.Exec(ctx, `INSERT INTO jobs (kind, key, payload, state, run_at, max_attempts, created_at, updated_at`+cols+`)
		SELECT ?, ?, ?, ?, CAST(? AS BIGINT), CAST(? AS INTEGER), `+now+`, `+now+vals+`
		WHERE NOT EXISTS (SELECT 1 FROM job_keys WHERE key = ?) ON CONFLICT (key) DO NOTHING`,
		j.Kind, j.Key, string(payload), state, runAt.UnixMilli(), max, j.Key)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", j.Kind, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", j.Kind, err)
	}
	return n == 1, nil
}

// Pending reports whether a job of kind whose key starts with keyPrefix is
// queued or running, read in the caller's transaction. A capability asks
// it of its own keys (is this incident's escalation still scheduled?).
func Pending(ctx context.Context, tx *db.Tx, kind, keyPrefix string) (bool, error) {
	// LIKE, not a key range: PostgreSQL compares text by collation, which
	// may ignore the punctuation keys are made of.
	pattern := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(keyPrefix) + "%"
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT id FROM jobs WHERE kind = ? AND state IN (?, ?) AND key LIKE ? ESCAPE '\' LIMIT 1) p`,
		kind, StateQueued, StateRunning, pattern).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("pending %s jobs: %w", kind, err)
	}
	return n > 0, nil
}

// Engine claims and runs due jobs. Its exported fields may be set after New
// and before Run.
type Engine struct {
	// PollInterval is how often Run looks for due jobs when not woken
	// (default 250ms).
	PollInterval time.Duration
	// JobTimeout bounds one run of a handler (default 30s).
	JobTimeout time.Duration
	// Lease is how long a claimed Handler job is hidden from other workers;
	// after it, a crashed worker's job is claimed again (default
	// JobTimeout + 15s).
	Lease time.Duration
	// Workers is how many Handler jobs run at once in Run (default 8).
	Workers int
	// TxWorkers is how many transactional jobs run at once on PostgreSQL
	// (default 4; 1 runs them one at a time). Keep it under half the
	// connection pool. SQLite always runs them one at a time.
	TxWorkers int
	// BatchSize is how many jobs one claim takes (default 32).
	BatchSize int
	// BackoffBase and BackoffMax shape the retry delay: base·2^(attempt-1),
	// capped at max, ±20% jitter (defaults 1s and 10m).
	BackoffBase, BackoffMax time.Duration

	d     *db.DB
	clock clock.Clock
	log   *slog.Logger
	id    string

	mu       sync.RWMutex
	handlers map[string]Handler
	txs      map[string]TxHandler

	wake chan struct{}
	m    *metrics

	// afterTx, when set (tests), runs after a TxHandler job's transaction
	// ends and before any outcome recorded outside it.
	afterTx func()
}

type metrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	lag      *prometheus.HistogramVec
}

// New returns an engine on d. reg may be nil (no metrics).
func New(d *db.DB, c clock.Clock, log *slog.Logger, reg prometheus.Registerer) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	e := &Engine{
		PollInterval: 250 * time.Millisecond,
		JobTimeout:   30 * time.Second,
		Workers:      8,
		TxWorkers:    4,
		BatchSize:    32,
		BackoffBase:  time.Second,
		BackoffMax:   10 * time.Minute,
		d:            d,
		clock:        c,
		log:          log,
		id:           hex.EncodeToString(b[:]),
		handlers:     map[string]Handler{},
		txs:          map[string]TxHandler{},
		wake:         make(chan struct{}, 1),
		m: &metrics{
			runs: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "tandem_engine_job_runs_total",
				Help: "Job runs by kind and result (done, deferred, retry, failed).",
			}, []string{"kind", "result"}),
			duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Name:    "tandem_engine_job_duration_seconds",
				Help:    "Time a job handler took.",
				Buckets: prometheus.DefBuckets,
			}, []string{"kind"}),
			lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Name:    "tandem_engine_job_lag_seconds",
				Help:    "Time from a job's run_at to the start of its run.",
				Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
			}, []string{"kind"}),
		},
	}
	if reg != nil {
		reg.MustRegister(e.m.runs, e.m.duration, e.m.lag)
	}
	return e
}

// Name names the module.
func (e *Engine) Name() string { return "engine" }

// Register sets the handler for kind; it runs outside any transaction.
func (e *Engine) Register(kind string, h Handler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.handlers[kind] = h
}

// RegisterTx sets a transactional handler for kind (see TxHandler).
func (e *Engine) RegisterTx(kind string, h TxHandler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.txs[kind] = h
}

// Wake makes Run look for due jobs now rather than at its next poll. Call it
// after committing a transaction that enqueued jobs due at once.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// now is the SQL expression for "now" in claims, leases and due times: the
// database's clock, so replicas whose clocks disagree agree on when a job
// is due and when a lease ends (a fake test clock's time as a literal).
func (e *Engine) now() string { return e.d.NowSQL(e.clock) }

func (e *Engine) lease() time.Duration {
	if e.Lease > 0 {
		return e.Lease
	}
	return e.JobTimeout + 15*time.Second
}

// claimed is a job taken by claim: lease jobs are already marked running.
type claimed struct {
	Job
	tx bool
}

// claim takes up to n due jobs. Handler jobs get a lease and attempts+1 in
// the claim transaction; TxHandler jobs are only listed (each is re-checked
// and locked in its own transaction). Jobs out of attempts whose lease ran
// out (their worker died during the last attempt) are marked failed.
func (e *Engine) claim(ctx context.Context, n int) ([]claimed, error) {
	now := e.now()
	// A read first: polling an idle queue must not take the write lock
	// (SQLite has one writer; every request waits for it).
	var due int
	if err := e.d.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT id FROM jobs WHERE state IN ('queued', 'running') AND run_at <= `+now+` AND locked_until <= `+now+` LIMIT 1) d`).Scan(&due); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	if due == 0 {
		return nil, nil
	}
	// Candidates are read without a lock. Transactional jobs need nothing
	// more here (each is re-checked and locked in the transaction that runs
	// it); only leased jobs are claimed in a write transaction, so a batch
	// of escalation steps costs no extra commit.
	rows, err := e.d.Query(ctx, `SELECT id, kind, key, payload, run_at, attempts, max_attempts, `+now+` FROM jobs
		WHERE state IN ('queued', 'running') AND run_at <= `+now+` AND locked_until <= `+now+`
		ORDER BY run_at, id LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	type row struct {
		j   Job
		max int
	}
	var rs []row
	for rows.Next() {
		var r row
		var payload string
		var runAt, dbNow int64
		if err := rows.Scan(&r.j.ID, &r.j.Kind, &r.j.Key, &payload, &runAt, &r.j.Attempts, &r.max, &dbNow); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		r.j.Payload = json.RawMessage(payload)
		r.j.RunAt = db.Time(runAt)
		r.j.lag = time.Duration(dbNow-runAt) * time.Millisecond
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	var out []claimed
	var lease []row
	e.mu.RLock()
	for _, r := range rs {
		if _, ok := e.txs[r.j.Kind]; ok && r.j.Attempts < r.max {
			out = append(out, claimed{Job: r.j, tx: true})
			continue
		}
		lease = append(lease, r)
	}
	e.mu.RUnlock()
	if len(lease) == 0 {
		return out, nil
	}
	var leased []claimed
	err = e.d.InTx(ctx, func(tx *db.Tx) error {
		leased = leased[:0]
		e.mu.RLock()
		defer e.mu.RUnlock()
		for _, r := range lease {
			// Re-check under the lock: another worker may have taken it.
			var attempts, max int
			err := tx.QueryRow(ctx, `SELECT attempts, max_attempts FROM jobs WHERE id = ? AND state IN ('queued', 'running') AND run_at <= `+now+` AND locked_until <= `+now+e.d.Dialect().SkipLocked(),
				r.j.ID).Scan(&attempts, &max)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			r.j.Attempts, r.max = attempts, max
			if r.j.Attempts >= r.max {
				if _, err := tx.Exec(ctx, `UPDATE jobs SET state = ?, last_error = ?, locked_until = 0, updated_at = `+now+`, finished_at = `+now+` WHERE id = ?`,
					StateFailed, "out of attempts (the last run's worker stopped before finishing)", r.j.ID); err != nil {
					return err
				}
				e.m.runs.WithLabelValues(r.j.Kind, "failed").Inc()
				continue
			}
			if _, ok := e.handlers[r.j.Kind]; !ok {
				// Another replica (a newer version) may know the kind: leave
				// the job for it, but out of this worker's way for a while.
				if _, err := tx.Exec(ctx, `UPDATE jobs SET locked_until = `+now+` + ?, last_error = ? WHERE id = ?`,
					e.lease().Milliseconds(), "no handler for kind "+r.j.Kind+" on worker "+e.id, r.j.ID); err != nil {
					return err
				}
				continue
			}
			r.j.Attempts++
			if _, err := tx.Exec(ctx, `UPDATE jobs SET state = ?, attempts = ?, locked_until = `+now+` + ?, locked_by = ?, updated_at = `+now+` WHERE id = ?`,
				StateRunning, r.j.Attempts, e.lease().Milliseconds(), e.id, r.j.ID); err != nil {
				return err
			}
			leased = append(leased, claimed{Job: r.j})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	return append(out, leased...), nil
}

// RunDue runs every job due at the clock's now, one after another, until
// none is left, and returns how many runs it made (retries scheduled for
// later are not waited for). Tests call it after moving a fake clock.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	total := 0
	for {
		jobs, err := e.claim(ctx, e.batch())
		if err != nil {
			return total, err
		}
		ran := 0
		for _, j := range jobs {
			if e.run(ctx, j) {
				ran++
			}
		}
		total += ran
		if len(jobs) == 0 || ran == 0 {
			return total, nil
		}
	}
}

func (e *Engine) batch() int {
	if e.BatchSize > 0 {
		return e.BatchSize
	}
	return 32
}

// Run claims and runs due jobs until ctx ends, polling every PollInterval
// and at once after Wake. Handler jobs run on up to Workers goroutines.
func (e *Engine) Run(ctx context.Context) error {
	workers := e.Workers
	if workers <= 0 {
		workers = 8
	}
	sem := make(chan struct{}, workers)
	var txSem chan struct{}
	if n := e.TxWorkers; e.d.Dialect() == db.Postgres && n > 1 {
		txSem = make(chan struct{}, n)
	}
	var inMu sync.Mutex
	inflight := map[int64]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(e.PollInterval)
	defer tick.Stop()
	for {
		free := workers - len(sem)
		if free > 0 {
			jobs, err := e.claim(ctx, min(free, e.batch()))
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				e.log.Warn("engine: claim failed", "err", err)
			}
			ranTx := false
			for _, j := range jobs {
				if j.tx && txSem == nil {
					// SQLite: transactional jobs run here, one at a time
					// (they would only queue for the single writer).
					ranTx = e.run(ctx, j) || ranTx
					continue
				}
				if j.tx {
					// PostgreSQL: up to TxWorkers at once. Each holds a
					// connection and its handler may read on another, so
					// their number stays well under the pool's size.
					inMu.Lock()
					busy := inflight[j.ID]
					inMu.Unlock()
					if busy {
						continue
					}
					select {
					case txSem <- struct{}{}:
					default:
						continue // all busy: taken again at the next look
					}
					inMu.Lock()
					inflight[j.ID] = true
					inMu.Unlock()
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer e.Wake()
						defer func() {
							inMu.Lock()
							delete(inflight, j.ID)
							inMu.Unlock()
							<-txSem
						}()
						e.run(ctx, j)
					}()
					continue
				}
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer e.Wake() // a worker is free: look for more at once
					defer func() { <-sem }()
					e.run(ctx, j)
				}()
			}
			if len(jobs) == free || ranTx {
				// More may be due (a full batch, or jobs a transactional
				// handler enqueued for now): look again without waiting.
				select {
				case <-ctx.Done():
					return nil
				default:
					continue
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-e.wake:
		}
	}
}

// run runs one claimed job and records the outcome. It reports whether the
// handler ran (a TxHandler job taken by another worker meanwhile does not).
func (e *Engine) run(ctx context.Context, c claimed) bool {
	if c.tx {
		return e.runTx(ctx, c.Job)
	}
	e.mu.RLock()
	h := e.handlers[c.Kind]
	e.mu.RUnlock()
	start := time.Now()
	e.m.lag.WithLabelValues(c.Kind).Observe(max(0, c.lag.Seconds()))
	fin := &finisher{}
	hctx := context.WithValue(ctx, finishKey{}, fin)
	err := e.call(hctx, c.Job, func(ctx context.Context) error { return h(ctx, c.Job) })
	e.m.duration.WithLabelValues(c.Kind).Observe(time.Since(start).Seconds())
	// Record the outcome even when ctx is ending: the side effect happened.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	fin.mu.Lock()
	extra := fin.fns
	fin.mu.Unlock()
	ferr := e.d.InTx(fctx, func(tx *db.Tx) error {
		if err := e.finish(fctx, tx, c.Job, err, guardLease); err != nil {
			return err
		}
		for _, fn := range extra {
			if err := fn(fctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if ferr != nil {
		e.log.Error("engine: recording job outcome failed; the job will run again after its lease", "job", c.ID, "kind", c.Kind, "err", ferr)
	}
	return true
}

// runTx runs a TxHandler job in the transaction that completes it. A
// handler error rolls back the handler's writes to a savepoint and records
// the retry (or failure) in the same transaction, while the job's row is
// still locked: no other worker can have completed the job in between.
func (e *Engine) runTx(ctx context.Context, j Job) bool {
	e.mu.RLock()
	h := e.txs[j.Kind]
	e.mu.RUnlock()
	start := time.Now()
	ran := false
	var herr error
	now := e.now()
	err := e.d.InTx(ctx, func(tx *db.Tx) error {
		var attempts int
		err := tx.QueryRow(ctx, `SELECT attempts FROM jobs WHERE id = ? AND state = ? AND run_at <= `+now+` AND locked_until <= `+now+e.d.Dialect().SkipLocked(),
			j.ID, StateQueued).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // done or taken by another worker meanwhile
		}
		if err != nil {
			return err
		}
		ran = true
		j.Attempts = attempts + 1
		e.m.lag.WithLabelValues(j.Kind).Observe(max(0, j.lag.Seconds()))
		if _, err := tx.Exec(ctx, "SAVEPOINT job_handler"); err != nil {
			return err
		}
		herr = e.call(ctx, j, func(ctx context.Context) error { return h(ctx, tx, j) })
		if herr != nil {
			if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT job_handler"); err != nil {
				return err
			}
		}
		return e.finish(ctx, tx, j, herr, guardQueued)
	})
	e.m.duration.WithLabelValues(j.Kind).Observe(time.Since(start).Seconds())
	if e.afterTx != nil {
		e.afterTx()
	}
	if err != nil && ran {
		// The transaction failed (its commit, or recording the outcome):
		// the handler's writes are gone. Record a retry unless another
		// worker has run the job since (state and attempts guard it).
		if herr == nil {
			herr = err
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if ferr := e.finish(fctx, nil, j, herr, guardQueued); ferr != nil {
			e.log.Error("engine: recording job failure failed", "job", j.ID, "kind", j.Kind, "err", ferr)
		}
	}
	return ran
}

// call runs fn with the job timeout, turning a panic into an error.
func (e *Engine) call(ctx context.Context, j Job, fn func(context.Context) error) (err error) {
	tctx, cancel := context.WithTimeout(ctx, e.JobTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("engine: job handler panicked", "job", j.ID, "kind", j.Kind, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return fn(tctx)
}

// finish records a run's outcome: done, deferred, a retry with backoff, or
// failed.
// The update applies only to the attempt it records: with guardLease while
// this worker holds the lease for this attempt (a worker that overran its
// lease does not overwrite a newer attempt), with guardQueued while the
// job is still queued at the attempt before this run (a transactional job
// another worker has completed or retried since is left alone). tx nil
// runs it in its own transaction.
func (e *Engine) finish(ctx context.Context, tx *db.Tx, j Job, herr error, g guard) error {
	now := e.now()
	var guard string
	var args []any
	switch g {
	case guardLease:
		guard = " AND locked_by = ? AND attempts = ?"
		args = append(args, e.id, j.Attempts)
	case guardQueued:
		guard = " AND state = ? AND attempts = ?"
		args = append(args, StateQueued, j.Attempts-1)
	}
	var query string
	var vals []any
	wait := deferral(herr)
	switch {
	case herr == nil:
		query = `UPDATE jobs SET state = ?, locked_until = 0, last_error = '', updated_at = ` + now + `, finished_at = ` + now + `, attempts = ? WHERE id = ?`
		vals = []any{StateDone, j.Attempts, j.ID}
		e.m.runs.WithLabelValues(j.Kind, "done").Inc()
	case wait > 0:
		// Not tried: give the attempt back and come back when asked.
		query = `UPDATE jobs SET state = ?, locked_until = 0, last_error = ?, updated_at = ` + now + `, run_at = ` + now + ` + ?, attempts = ? WHERE id = ?`
		vals = []any{StateQueued, truncate(herr.Error(), 2000), wait.Milliseconds(), j.Attempts - 1, j.ID}
		e.m.runs.WithLabelValues(j.Kind, "deferred").Inc()
		e.log.Debug("engine: job deferred", "job", j.ID, "kind", j.Kind, "for", wait, "reason", herr)
	default:
		var maxAttempts int
		q := e.d.QueryRow
		if tx != nil {
			q = tx.QueryRow
		}
		if err := q(ctx, `SELECT max_attempts FROM jobs WHERE id = ?`, j.ID).Scan(&maxAttempts); err != nil {
			return err
		}
		msg := truncate(herr.Error(), 2000)
		if IsPermanent(herr) || j.Attempts >= maxAttempts {
			query = `UPDATE jobs SET state = ?, locked_until = 0, last_error = ?, updated_at = ` + now + `, finished_at = ` + now + `, attempts = ? WHERE id = ?`
			vals = []any{StateFailed, msg, j.Attempts, j.ID}
			e.m.runs.WithLabelValues(j.Kind, "failed").Inc()
			e.log.Warn("engine: job failed", "job", j.ID, "kind", j.Kind, "attempts", j.Attempts, "err", msg)
		} else {
			wait := max(Backoff(j.Attempts, e.BackoffBase, e.BackoffMax, mrand.Float64()), retryAfter(herr))
			query = `UPDATE jobs SET state = ?, locked_until = 0, last_error = ?, updated_at = ` + now + `, run_at = ` + now + ` + ?, attempts = ? WHERE id = ?`
			vals = []any{StateQueued, msg, wait.Milliseconds(), j.Attempts, j.ID}
			e.m.runs.WithLabelValues(j.Kind, "retry").Inc()
			e.log.Info("engine: job will be retried", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "in", wait, "err", msg)
		}
	}
	query += guard
	vals = append(vals, args...)
	if tx != nil {
		_, err := tx.Exec(ctx, query, vals...)
		return err
	}
	_, err := e.d.Exec(ctx, query, vals...)
	return err
}

// guard says which attempt a finish may overwrite (see finish).
type guard int

const (
	guardLease  guard = iota + 1 // a leased Handler job
	guardQueued                  // a TxHandler job
)

// Backoff is the delay before retry number attempt+1: base·2^(attempt-1),
// capped at max, scaled by a jitter factor in [0.8, 1.2) taken from u in
// [0, 1). Pure, so tests pin u.
func Backoff(attempt int, base, max time.Duration, u float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return time.Duration(float64(d) * (0.8 + 0.4*u))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Filter selects jobs for List.
type Filter struct {
	State string // "" for any
	Kind  string // "" for any
	Limit int    // default 100, at most 1000
}

// List returns jobs, newest first.
func (e *Engine) List(ctx context.Context, f Filter) ([]Info, error) {
	return List(ctx, e.d, f)
}

// List returns the jobs in d that match f, newest first. A State outside the
// four known states is an invalid error naming the field "state".
func List(ctx context.Context, d *db.DB, f Filter) ([]Info, error) {
	switch f.State {
	case "", StateQueued, StateRunning, StateDone, StateFailed:
	default:
		return nil, tandem.FieldErrorf("state", "want one of queued, running, done, failed; got %q", f.State)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var where []string
	var args []any
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, f.State)
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, f.Kind)
	}
	q := `SELECT id, kind, key, state, payload, run_at, attempts, max_attempts, last_error, created_at, updated_at, finished_at FROM jobs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := d.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	out := []Info{}
	for rows.Next() {
		var i Info
		var payload string
		var runAt, created, updated, finished int64
		if err := rows.Scan(&i.ID, &i.Kind, &i.Key, &i.State, &payload, &runAt, &i.Attempts, &i.MaxAttempts, &i.LastError, &created, &updated, &finished); err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		i.Payload = json.RawMessage(payload)
		i.RunAt, i.CreatedAt, i.UpdatedAt = db.Time(runAt), db.Time(created), db.Time(updated)
		if finished != 0 {
			t := db.Time(finished)
			i.FinishedAt = &t
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

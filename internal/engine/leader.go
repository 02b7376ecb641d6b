package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/db"
)

// Leaders runs singleton loops: periodic work (the SLO evaluator, the
// postmortem reminders) that must happen once per cycle however many
// replicas run. Each loop has a named lock (db.TryLock): the replica that
// holds it runs the cycles, the others try to take it once per cycle. When
// the leader dies, PostgreSQL ends its session and frees the lock, so
// another replica leads from its next try, within one cycle. On SQLite the
// lock is a file lock and the one process leads.
//
// A cycle runs with a context that carries the lock (db.WithLock), so every
// write it makes through db.DB checks first that the lock is still held
// (Lock.Check) and fails if it is not.
//
// /metrics shows tandem_leader{loop} (1 on the replica that leads, 0
// elsewhere) and tandem_loop_cycles_total{loop}, the cycles this replica
// ran.
type Leaders struct {
	d      *db.DB
	log    *slog.Logger
	leader *prometheus.GaugeVec
	cycles *prometheus.CounterVec
}

// NewLeaders returns the singleton loops' runner on d; reg may be nil.
func NewLeaders(d *db.DB, log *slog.Logger, reg prometheus.Registerer) *Leaders {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ls := &Leaders{d: d, log: log,
		leader: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tandem_leader",
			Help: "1 when this replica leads the singleton loop, 0 when another replica does.",
		}, []string{"loop"}),
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_loop_cycles_total",
			Help: "Cycles of a singleton loop run by this replica while it led.",
		}, []string{"loop"}),
	}
	if reg != nil {
		reg.MustRegister(ls.leader, ls.cycles)
	}
	return ls
}

// Loop returns the module that runs cycle every interval while this
// replica holds the lock named name. A cycle's error is logged; the next
// cycle tries again.
func (ls *Leaders) Loop(name string, interval time.Duration, cycle func(ctx context.Context) error) *Loop {
	ls.leader.WithLabelValues(name).Set(0)
	ls.cycles.WithLabelValues(name)
	return &Loop{ls: ls, name: name, interval: interval, cycle: cycle}
}

// Loop is one singleton loop, a background module.
type Loop struct {
	ls       *Leaders
	name     string
	interval time.Duration
	cycle    func(ctx context.Context) error

	lock *db.Lock
}

// Name names the module.
func (l *Loop) Name() string { return l.name }

// Run leads (or waits to lead) until ctx ends, then gives the lock back.
func (l *Loop) Run(ctx context.Context) error {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	defer l.resign()
	for {
		if l.lead(ctx) {
			l.run(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// lead reports whether this replica holds the lock, taking it if it is
// free and giving it up if the server no longer holds it for us.
func (l *Loop) lead(ctx context.Context) bool {
	if l.lock != nil {
		if err := l.lock.Check(ctx); err != nil {
			if ctx.Err() == nil {
				l.ls.log.Warn("singleton loop: leadership lost", "loop", l.name, "err", err)
			}
			l.resign()
		}
	}
	if l.lock == nil {
		lock, err := l.ls.d.TryLock(ctx, l.name)
		if err != nil {
			if ctx.Err() == nil {
				l.ls.log.Warn("singleton loop: lock not taken", "loop", l.name, "err", err)
			}
			return false
		}
		if lock != nil {
			l.ls.log.Info("singleton loop: leading", "loop", l.name)
			l.lock = lock
			l.ls.leader.WithLabelValues(l.name).Set(1)
		}
	}
	return l.lock != nil
}

func (l *Loop) resign() {
	if l.lock == nil {
		return
	}
	if err := l.lock.Release(); err != nil {
		l.ls.log.Warn("singleton loop: release", "loop", l.name, "err", err)
	}
	l.lock = nil
	l.ls.leader.WithLabelValues(l.name).Set(0)
}

func (l *Loop) run(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			l.ls.log.Error("singleton loop: cycle panicked", "loop", l.name, "panic", p)
		}
	}()
	l.ls.cycles.WithLabelValues(l.name).Inc()
	l.ls.log.Debug("singleton loop: cycle", "loop", l.name)
	if err := l.cycle(db.WithLock(ctx, l.lock)); err != nil && ctx.Err() == nil {
		l.ls.log.Warn("singleton loop: cycle failed", "loop", l.name, "err", err)
	}
}

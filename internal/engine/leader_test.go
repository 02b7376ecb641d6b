package engine_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
)

// Two replicas' loops on one database: one leads and runs every cycle, the
// other runs none and reports tandem_leader 0; when the leader stops, the
// other leads from its next try.
func TestLeadersOneLeaderPerLoop(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		const every = 50 * time.Millisecond
		var runs [2]atomic.Int64
		regs := [2]*prometheus.Registry{prometheus.NewRegistry(), prometheus.NewRegistry()}
		ctxs := [2]context.Context{}
		cancels := [2]context.CancelFunc{}
		var wg sync.WaitGroup
		for i := range 2 {
			ls := engine.NewLeaders(d, nil, regs[i])
			loop := ls.Loop("test-loop", every, func(ctx context.Context) error {
				runs[i].Add(1)
				// A write under the loop's context checks the lock.
				_, err := d.Exec(ctx, "SELECT 1")
				return err
			})
			ctxs[i], cancels[i] = context.WithCancel(context.Background())
			wg.Add(1)
			go func() { defer wg.Done(); _ = loop.Run(ctxs[i]) }()
			time.Sleep(10 * time.Millisecond) // the first replica starts first
		}
		defer func() {
			cancels[0]()
			cancels[1]()
			wg.Wait()
		}()
		time.Sleep(10 * every)
		if runs[0].Load() < 5 || runs[1].Load() != 0 {
			t.Fatalf("cycles: leader %d, follower %d", runs[0].Load(), runs[1].Load())
		}
		gauge := func(i int) string {
			var b strings.Builder
			mfs, _ := regs[i].Gather()
			for _, mf := range mfs {
				if mf.GetName() == "tandem_leader" {
					for _, m := range mf.GetMetric() {
						b.WriteString(m.GetLabel()[0].GetValue())
						if m.GetGauge().GetValue() == 1 {
							b.WriteString("=1")
						} else {
							b.WriteString("=0")
						}
					}
				}
			}
			return b.String()
		}
		if gauge(0) != "test-loop=1" || gauge(1) != "test-loop=0" {
			t.Fatalf("tandem_leader: %s and %s", gauge(0), gauge(1))
		}
		cancels[0]()
		stopped := time.Now()
		for runs[1].Load() == 0 {
			if time.Since(stopped) > 2*every {
				t.Fatalf("no new leader %s after the leader stopped", time.Since(stopped))
			}
			time.Sleep(5 * time.Millisecond) // polling the other loop
		}
		if gauge(1) != "test-loop=1" {
			t.Fatalf("tandem_leader after the handover: %s", gauge(1))
		}
	})
}

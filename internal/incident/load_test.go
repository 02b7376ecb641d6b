package incident_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
)

// Repeated deliveries of one Alertmanager notification (eight senders at
// once, as retries from a flapping network would arrive) open one incident
// and page once. The target is 10,000 deliveries; the default run
// sends 1,000 to keep `go test -race` quick, and
//
//	TANDEM_TEST_DUPLICATES=10000 go test ./internal/incident -run TestDuplicateAlerts -v
//
// runs the full target.
func TestDuplicateAlerts(t *testing.T) {
	n := envInt("TANDEM_TEST_DUPLICATES", 1000)
	if testing.Short() {
		n = 200
	}
	payload := storedPayloads(t)[0]
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		g, err := parseOneGroup(payload, incident.DefaultMapping())
		if err != nil {
			t.Fatal(err)
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		ids := make([]int64, 8)
		start := time.Now()
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					inc, err := h.m.AlertGroup(ctx, g)
					if err != nil {
						t.Error(err)
						return
					}
					if ids[w] != 0 && ids[w] != inc.ID {
						t.Errorf("incident #%d after #%d", inc.ID, ids[w])
					}
					ids[w] = inc.ID
				}
			}()
		}
		wg.Wait()
		t.Logf("%d duplicate deliveries in %s", n, time.Since(start).Round(time.Millisecond))
		h.walk(t, 5*time.Minute, time.Minute)
		list, _ := h.m.List(ctx, incident.Filter{})
		if len(list) != 1 {
			t.Fatalf("%d incidents, want 1", len(list))
		}
		if p := h.rcv.got(); len(p) != 1 {
			t.Fatalf("%d pages, want 1", len(p))
		}
		tl, _ := h.m.Timeline(ctx, list[0].ID)
		fired := 0
		for _, e := range tl {
			if e.Kind == incident.EvAlertFired {
				fired++
			}
		}
		if fired != 1 {
			t.Fatalf("%d alert_fired entries, want 1", fired)
		}
	})
}

// BenchmarkDuplicateAlert is one repeated delivery of an Alertmanager
// notification for an open incident (the dedup path).
func BenchmarkDuplicateAlert(b *testing.B) {
	payload, err := os.ReadFile("testdata/alertmanager/1-firing.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, eng := range []string{"sqlite", "postgres"} {
		b.Run(eng, func(b *testing.B) {
			var d *db.DB
			if eng == "sqlite" {
				d = dbtest.SQLite(b)
			} else {
				d = dbtest.Postgres(b)
			}
			h := newHarness(b, d, 0)
			g, _ := parseOneGroup(payload, incident.DefaultMapping())
			ctx := context.Background()
			if _, err := h.m.AlertGroup(ctx, g); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := h.m.AlertGroup(ctx, g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLoadAlertmanagerToPage is the latency target: while 200 Alertmanager
// notifications per second (each a new alert group) arrive for 60 s at a
// real server, the time from sending the webhook to the first page reaching
// the receiver has p99 under 1 s, on SQLite and on PostgreSQL. It measures
// more than the target asks (delivery to the receiver, not just the
// hand-off to the sender). It runs only with TANDEM_LOAD_TEST=1;
// TANDEM_LOAD_SECONDS and TANDEM_LOAD_RATE change the duration and rate.
//
//	TANDEM_LOAD_TEST=1 go test ./internal/incident -run TestLoadAlertmanagerToPage
func TestLoadAlertmanagerToPage(t *testing.T) {
	if os.Getenv("TANDEM_LOAD_TEST") != "1" {
		t.Skip("set TANDEM_LOAD_TEST=1 to run the 60 s load test")
	}
	seconds, rate := envInt("TANDEM_LOAD_SECONDS", 60), envInt("TANDEM_LOAD_RATE", 200)
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			rcv := newCountingReceiver(t)
			srv := apptest.Start(t, apptest.Options{ConfigDir: writeConfig(t, rcv.srv.URL), Postgres: eng == "postgres", Quiet: true})
			tok := srv.Token(t, "alertmanager", auth.ScopeWrite)
			total := seconds * rate
			sentAt := make([]time.Time, total)
			var mu sync.Mutex
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
			var wg sync.WaitGroup
			var failed atomic.Int32
			for i := 0; i < total; i++ {
				<-tick.C
				body := alertBody(i)
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/webhooks/alertmanager", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
					req.Header.Set("Content-Type", "application/json")
					mu.Lock()
					sentAt[i] = time.Now()
					mu.Unlock()
					resp, err := httpc.Do(req)
					if err != nil || resp.StatusCode != 200 {
						failed.Add(1)
						if resp != nil {
							resp.Body.Close()
						}
						return
					}
					resp.Body.Close()
				}()
			}
			wg.Wait()
			if f := failed.Load(); f > 0 {
				t.Errorf("%d webhook posts failed", f)
			}
			rcv.wait(t, total-int(failed.Load()), 60*time.Second)
			// The page's title is the alert's summary, "load N".
			lat := make([]time.Duration, 0, total)
			rcv.mu.Lock()
			for id, at := range rcv.first {
				var n int
				if _, err := fmt.Sscanf(rcv.title[id], "load %d", &n); err != nil || n < 0 || n >= total {
					continue
				}
				lat = append(lat, at.Sub(sentAt[n]))
			}
			rcv.mu.Unlock()
			if len(lat) == 0 {
				t.Fatal("no pages matched")
			}
			if len(lat) != total {
				t.Errorf("matched %d latencies, want %d", len(lat), total)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
			fmt.Printf("LOAD %s: %d alerts at %d/s for %ds: webhook→page p50 %s p95 %s p99 %s max %s",
				eng, total, rate, seconds, p(.5).Round(time.Millisecond), p(.95).Round(time.Millisecond), p(.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
			fmt.Println()
			if p(.99) >= time.Second {
				t.Errorf("p99 %s, target < 1s", p(.99))
			}
		})
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func alertBody(i int) []byte {
	now := time.Now().UTC()
	p := map[string]any{
		"version": "4", "groupKey": fmt.Sprintf(`{}:{alertname="Load", seq="%d"}`, i), "status": "firing", "receiver": "tandem",
		"groupLabels":       map[string]string{"alertname": "Load"},
		"commonLabels":      map[string]string{"alertname": "Load", "service": "checkout", "severity": "page", "load_seq": strconv.Itoa(i)},
		"commonAnnotations": map[string]string{"summary": "load " + strconv.Itoa(i)},
		"externalURL":       "http://alertmanager", "truncatedAlerts": 0,
		"alerts": []map[string]any{{"status": "firing", "labels": map[string]string{"alertname": "Load", "service": "checkout", "load_seq": strconv.Itoa(i)},
			"annotations": map[string]string{}, "startsAt": now, "endsAt": time.Time{}, "generatorURL": "", "fingerprint": fmt.Sprintf("%016x", i)}},
	}
	b, _ := json.Marshal(p)
	return b
}

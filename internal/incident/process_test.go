package incident_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/testenv"
)

// These tests run the real binary: they build cmd/tandem, start `tandem
// serve` processes on a temporary database and page a counting webhook
// receiver. Escalation delays are scaled with TANDEM_TEST_TIME_SCALE so a
// policy of 10-minute rules runs in seconds.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func tandemBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tandem-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tandem")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/tandemhq/tandem/cmd/tandem")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// countingReceiver counts deliveries by delivery id and records when each
// first arrived.
type countingReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	count map[string]int
	first map[string]time.Time
	who   map[string]string
	inc   map[string]int64
	title map[string]string
	ch    chan struct{} // wakes wait; capacity 1, never blocks a delivery
}

func newCountingReceiver(t *testing.T) *countingReceiver {
	r := &countingReceiver{count: map[string]int{}, first: map[string]time.Time{}, who: map[string]string{}, inc: map[string]int64{}, title: map[string]string{}, ch: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m struct {
			DeliveryID string `json:"delivery_id"`
			Recipient  string `json:"recipient"`
			IncidentID int64  `json:"incident_id"`
			Title      string `json:"title"`
		}
		_ = json.Unmarshal(b, &m)
		r.mu.Lock()
		r.count[m.DeliveryID]++
		if r.count[m.DeliveryID] == 1 {
			r.first[m.DeliveryID] = time.Now()
			r.who[m.DeliveryID] = m.Recipient
			r.inc[m.DeliveryID] = m.IncidentID
			r.title[m.DeliveryID] = m.Title
		}
		r.mu.Unlock()
		// A wake-up for wait, never a wait here: a receiver that blocks
		// would throttle the sender and skew every latency it measures.
		select {
		case r.ch <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns after n deliveries in total or fails at the deadline.
func (r *countingReceiver) wait(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		total := 0
		for _, c := range r.count {
			total += c
		}
		r.mu.Unlock()
		if total >= n {
			return
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("only %d of %d pages arrived within %s", total, n, within)
		}
	}
}

func (r *countingReceiver) snapshot() (map[string]int, map[string]time.Time, map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, f, w := map[string]int{}, map[string]time.Time{}, map[string]string{}
	for k, v := range r.count {
		c[k] = v
	}
	for k, v := range r.first {
		f[k] = v
	}
	for k, v := range r.who {
		w[k] = v
	}
	return c, f, w
}

// writeConfig writes a tandem.d whose checkout service pages dev1, then
// the sre-primary schedule (alice), every 10 minutes, num_loops 1: four
// steps at 0, 10, 20 and 30 minutes. Everyone is paged by webhook.
func writeConfig(t *testing.T, hook string) string {
	dir := t.TempDir()
	cfg := fmt.Sprintf(`teams:
  - {name: payments, members: [dev1, alice]}
people:
  - {name: dev1, team: payments}
  - {name: alice, team: payments}
services:
  - {name: checkout, team: payments, escalation_policy: Dev-SRE}
schedules:
  - name: sre-primary
    time_zone: UTC
    layers:
      - {name: weekly, users: [alice], rotation: weekly, handoff: "00:00", start: 2026-01-05}
escalation_policies:
  - name: Dev-SRE
    num_loops: 1
    rules:
      - escalation_delay_in_minutes: 10
        targets: [{type: user_reference, id: dev1}]
      - escalation_delay_in_minutes: 10
        targets: [{type: schedule_reference, id: sre-primary}]
notification_defaults:
  - {start_delay_in_minutes: 0, contact_method: hook}
notification_rules:
  - person: dev1
    contact_methods: [{name: hook, type: webhook, address: %q}]
  - person: alice
    contact_methods: [{name: hook, type: webhook, address: %q}]
notifications:
  rate_limits:
    webhook: {every: 1ms, burst: 1000}
`, hook, hook)
	if err := os.WriteFile(filepath.Join(dir, "tandem.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// server is one `tandem serve` process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan struct{}
}

// store says where the processes keep their data.
type store struct{ dataDir, dbURL string }

func (s store) args() []string {
	if s.dbURL != "" {
		return []string{"--database-url", s.dbURL}
	}
	return []string{"--data-dir", s.dataDir}
}

func startServe(t *testing.T, bin, configDir string, st store, scale string, env ...string) *server {
	t.Helper()
	port := testenv.FreePort(t)
	s := &server{url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &bytes.Buffer{}, done: make(chan struct{})}
	args := append([]string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--config", configDir}, st.args()...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(append(os.Environ(), "TANDEM_TEST_TIME_SCALE="+scale), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("server %s log:\n%s", s.url, s.logs.String())
		}
	})
	for i := 0; i < 300; i++ {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("tandem serve exited:\n%s", s.logs.String())
		case <-time.After(50 * time.Millisecond): // polling a starting process
		}
	}
	t.Fatalf("tandem serve not ready:\n%s", s.logs.String())
	return nil
}

func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
}

// createToken makes an admin token: the tests read /api/v1/jobs.
func createToken(t *testing.T, bin string, st store) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"token", "create", "--name", "test", "--scope", "admin"}, st.args()...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("token create: %v\n%s", err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

func stores(t *testing.T) map[string]func(t *testing.T) store {
	return map[string]func(t *testing.T) store{
		"sqlite":   func(t *testing.T) store { return store{dataDir: t.TempDir()} },
		"postgres": func(t *testing.T) store { return store{dbURL: dbtest.PostgresURL(t)} },
	}
}

// A kill -9 between escalation steps, then a restart: the escalation goes
// on, every page arrives once and on time, none is repeated.
//
// Scale 0.005: a 10-minute rule is 3s, so pages are due at 0, 3, 6 and 9s
// after the trigger. The process is killed once the second page's job is
// recorded done, and restarted at once.
func TestKill9MidEscalation(t *testing.T) {
	bin := tandemBinary(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			st := stores(t)[name](t)
			rcv := newCountingReceiver(t)
			cfg := writeConfig(t, rcv.srv.URL)
			tok := createToken(t, bin, st)
			s1 := startServe(t, bin, cfg, st, "0.005")
			c, err := client.New(s1.url, tok)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			inc, err := c.OpenIncident(ctx, client.NewIncident{Title: "checkout down", Services: []string{"checkout"}, Severity: "sev1"})
			if err != nil {
				t.Fatal(err)
			}
			trigger := time.Now()
			rcv.wait(t, 2, 10*time.Second)
			// Kill only once both pages are recorded as sent: the kill
			// lands between steps, not in the ambiguous window inside a
			// send (that case has its own test).
			for i := 0; ; i++ {
				jobs, err := c.Jobs(ctx, "done", "incident.page", 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(jobs) == 2 {
					break
				}
				if i > 200 {
					t.Fatalf("page jobs not recorded done: %+v", jobs)
				}
				time.Sleep(10 * time.Millisecond) // polling another process's database
			}
			s1.kill(t)
			s2 := startServe(t, bin, cfg, st, "0.005")
			rcv.wait(t, 4, 20*time.Second)
			// Give a repeated page time to show up: one lease (45s) would be
			// needed for a lost claim, but a duplicate from a re-run step
			// would come at once; wait past the last step's time.
			time.Sleep(time.Until(trigger.Add(12 * time.Second))) // wall-clock timing is the subject of this test
			counts, first, who := rcv.snapshot()
			var order []string
			for id, n := range counts {
				if n != 1 {
					t.Errorf("delivery %s arrived %d times", id, n)
				}
				order = append(order, id)
			}
			sort.Slice(order, func(i, j int) bool { return first[order[i]].Before(first[order[j]]) })
			want := []struct {
				who string
				at  time.Duration
			}{{"dev1", 0}, {"alice", 3 * time.Second}, {"dev1", 6 * time.Second}, {"alice", 9 * time.Second}}
			if len(order) != len(want) {
				t.Fatalf("%d distinct pages, want %d: %v", len(order), len(want), counts)
			}
			for i, id := range order {
				late := first[id].Sub(trigger) - want[i].at
				if who[id] != want[i].who || late < -100*time.Millisecond || late > 2*time.Second {
					t.Errorf("page %d: %s at %s, want %s at %s (late by %s)", i+1, who[id], first[id].Sub(trigger).Round(time.Millisecond), want[i].who, want[i].at, late)
				}
			}
			c2, _ := client.New(s2.url, tok)
			got, err := c2.Incident(ctx, inc.ID)
			if err != nil || got.Status != incident.Triggered {
				t.Fatalf("after restart: %+v %v", got, err)
			}
		})
	}
}

// Two replicas on one PostgreSQL database share the queue: each page of
// five incidents is sent exactly once.
func TestTwoReplicas(t *testing.T) {
	bin := tandemBinary(t)
	st := store{dbURL: dbtest.PostgresURL(t)}
	rcv := newCountingReceiver(t)
	cfg := writeConfig(t, rcv.srv.URL)
	tok := createToken(t, bin, st)
	a := startServe(t, bin, cfg, st, "0.002")
	b := startServe(t, bin, cfg, st, "0.002")
	ctx := context.Background()
	const incidents = 5
	for i := 0; i < incidents; i++ {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		c, _ := client.New(srv.url, tok)
		if _, err := c.OpenIncident(ctx, client.NewIncident{Title: fmt.Sprintf("outage %d", i), Services: []string{"checkout"}, Severity: "sev2"}); err != nil {
			t.Fatal(err)
		}
	}
	// Four steps per incident at 0, 1.2, 2.4 and 3.6s.
	rcv.wait(t, 4*incidents, 20*time.Second)
	time.Sleep(2 * time.Second) // a duplicate would arrive within this window
	counts, _, _ := rcv.snapshot()
	if len(counts) != 4*incidents {
		t.Fatalf("%d distinct pages, want %d", len(counts), 4*incidents)
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("delivery %s arrived %d times", id, n)
		}
	}
}

// Two replicas on one PostgreSQL database whose clocks disagree by two
// minutes (one 60s fast, one 60s slow) share escalations: every page is
// sent once, and none is later than a second after it is due. Incidents
// are opened on both replicas in turn, so steps and pages scheduled by one
// replica are claimed by either.
func TestClockSkewTwoReplicas(t *testing.T) {
	bin := tandemBinary(t)
	st := store{dbURL: dbtest.PostgresURL(t)}
	rcv := newCountingReceiver(t)
	cfg := writeConfig(t, rcv.srv.URL)
	tok := createToken(t, bin, st)
	// Scale 0.002: the 10-minute rules are 1.2s apart.
	fast := startServe(t, bin, cfg, st, "0.002", "TANDEM_TEST_CLOCK_OFFSET=60s")
	slow := startServe(t, bin, cfg, st, "0.002", "TANDEM_TEST_CLOCK_OFFSET=-60s")
	ctx := context.Background()
	const incidents = 4
	opened := map[int64]time.Time{}
	for i := 0; i < incidents; i++ {
		srv := fast
		if i%2 == 1 {
			srv = slow
		}
		c, _ := client.New(srv.url, tok)
		before := time.Now()
		inc, err := c.OpenIncident(ctx, client.NewIncident{Title: fmt.Sprintf("outage %d", i), Services: []string{"checkout"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		opened[inc.ID] = before
	}
	// Four steps per incident at 0, 1.2, 2.4 and 3.6s.
	rcv.wait(t, 4*incidents, 20*time.Second)
	time.Sleep(2 * time.Second) // a duplicate would arrive within this window
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.count) != 4*incidents {
		t.Fatalf("%d distinct pages, want %d", len(rcv.count), 4*incidents)
	}
	byInc := map[int64][]time.Time{}
	for id, n := range rcv.count {
		if n != 1 {
			t.Errorf("delivery %s arrived %d times", id, n)
		}
		byInc[rcv.inc[id]] = append(byInc[rcv.inc[id]], rcv.first[id])
	}
	worst := time.Duration(0)
	for id, at := range byInc {
		sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
		for k, a := range at {
			due := opened[id].Add(time.Duration(k) * 1200 * time.Millisecond)
			late := a.Sub(due)
			worst = max(worst, late)
			if late > time.Second || late < -100*time.Millisecond {
				t.Errorf("incident %d page %d arrived %s after it was due", id, k+1, late.Round(time.Millisecond))
			}
		}
	}
	t.Logf("latest page: %s after it was due", worst.Round(time.Millisecond))
}

// TestMain removes the binary the process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/testenv"
)

// The replica tests run the real binary: they build cmd/tandem and start
// `tandem serve` processes on one PostgreSQL database.

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
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/tandemhq/tandem/cmd/tandem").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// replica is one `tandem serve` process.
type replica struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (r *replica) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.Write(p)
}

func (r *replica) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

func startReplica(t *testing.T, bin, configDir, dbURL string, env ...string) *replica {
	t.Helper()
	port := testenv.FreePort(t)
	r := &replica{url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--config", configDir, "--database-url", dbURL)
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.Stdout, r.cmd.Stderr = r, r
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			_ = r.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("replica %s log:\n%s", r.url, r.log())
		}
	})
	for i := 0; i < 300; i++ {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return r
			}
		}
		select {
		case <-r.done:
			t.Fatalf("tandem serve exited:\n%s", r.log())
		case <-time.After(50 * time.Millisecond): // polling a starting process
		}
	}
	t.Fatalf("tandem serve not ready:\n%s", r.log())
	return nil
}

func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
}

// metrics scrapes the replica's /metrics and returns the samples of the
// named families as "name{labels}" → value.
func (r *replica) metrics(t *testing.T, names ...string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, n := range names {
			if strings.HasPrefix(line, n+"{") || strings.HasPrefix(line, n+" ") {
				i := strings.LastIndexByte(line, ' ')
				v, err := strconv.ParseFloat(line[i+1:], 64)
				if err != nil {
					t.Fatalf("metric line %q: %v", line, err)
				}
				out[line[:i]] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func createAdminToken(t *testing.T, bin, dbURL string) string {
	t.Helper()
	cmd := exec.Command(bin, "token", "create", "--name", "test", "--scope", "admin", "--database-url", dbURL)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("token create: %v\n%s", err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// startMailbox starts the in-process SMTP server and returns its address.
func startMailbox(t *testing.T) (*mailbox, string) {
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return box, ln.Addr().String()
}

var loops = []string{"slo-evaluator", "postmortem-reminders"}

// Three replicas on one PostgreSQL database, for several evaluation
// cycles: for each singleton loop exactly one replica reports
// tandem_leader 1, the loop's cycles add up to one per interval across the
// replicas (not three), each overdue action item is emailed once, and
// after kill -9 of the leader another replica leads within one cycle.
func TestThreeReplicasLeadOnce(t *testing.T) {
	bin := tandemBinary(t)
	dbURL := dbtest.PostgresURL(t)
	box, smtpAddr := startMailbox(t)
	cfg := t.TempDir()
	// remind_every 1m scaled by 0.02 is 1.2s; the evaluator runs every 1s.
	yaml := fmt.Sprintf(`teams:
  - {name: search, members: [bob, carol]}
people:
  - {name: bob, team: search, email: bob@example.com}
  - {name: carol, team: search, email: carol@example.com}
services:
  - {name: search-api, team: search}
slo_settings:
  evaluate_every: 1s
notifications:
  email: {smtp: %q, from: tandem@example.com, starttls: false}
postmortems:
  remind_every: 1m
`, smtpAddr)
	slo := `apiVersion: openslo/v1
kind: SLO
metadata: {name: search-availability}
spec:
  service: search-api
  indicator:
    metadata: {name: search-requests}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: tandem, spec: {source: ingest, maxStatus: 499}}}
        total: {metricSource: {type: tandem, spec: {source: ingest}}}
  timeWindow: [{duration: 7d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.995}]
`
	if err := os.WriteFile(filepath.Join(cfg, "tandem.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "slo.yaml"), []byte(slo), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := createAdminToken(t, bin, dbURL)
	env := []string{EnvTimeScale + "=0.02"}
	reps := []*replica{startReplica(t, bin, cfg, dbURL, env...), startReplica(t, bin, cfg, dbURL, env...), startReplica(t, bin, cfg, dbURL, env...)}
	c, err := client.New(reps[0].url, tok)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	for _, owner := range []string{"bob", "carol"} {
		if _, err := c.AddActionItem(ctx, client.NewActionItem{Title: "add a lag alert for " + owner, Owner: owner, Due: yesterday}); err != nil {
			t.Fatal(err)
		}
	}

	// leaders samples every live replica: the index of the one that
	// reports 1 per loop (-1 when none, or the test fails on two), and the
	// sum of the loop's cycles.
	leaders := func(live []*replica) (map[string]int, map[string]float64) {
		lead, cycles := map[string]int{}, map[string]float64{}
		for _, l := range loops {
			lead[l] = -1
		}
		for i, r := range live {
			m := r.metrics(t, "tandem_leader", "tandem_loop_cycles_total")
			for _, l := range loops {
				v, ok := m[`tandem_leader{loop="`+l+`"}`]
				if !ok {
					t.Fatalf("replica %d reports no tandem_leader for %s", i, l)
				}
				if v == 1 {
					if lead[l] >= 0 {
						t.Fatalf("replicas %d and %d both lead %s", lead[l], i, l)
					}
					lead[l] = i
				}
				cycles[l] += m[`tandem_loop_cycles_total{loop="`+l+`"}`]
			}
		}
		return lead, cycles
	}

	// Several cycles: sample twice a second for 6s.
	_, before := leaders(reps)
	start := time.Now()
	var first map[string]int
	for time.Since(start) < 6*time.Second {
		lead, _ := leaders(reps)
		for _, l := range loops {
			if lead[l] < 0 {
				t.Fatalf("no replica leads %s at %s", l, time.Since(start))
			}
		}
		if first == nil {
			first = lead
		}
		for _, l := range loops {
			if lead[l] != first[l] {
				t.Errorf("leadership of %s moved from %d to %d with no replica down", l, first[l], lead[l])
			}
		}
		time.Sleep(500 * time.Millisecond) // sampling other processes' metrics
	}
	_, after := leaders(reps)
	secs := time.Since(start).Seconds()
	for l, every := range map[string]float64{"slo-evaluator": 1, "postmortem-reminders": 1.2} {
		got := after[l] - before[l]
		want := secs / every
		t.Logf("%s: %.0f cycles over all replicas in %.1fs (one leader: %.1f)", l, got, secs, want)
		if got < want-2 || got > want+1.5 {
			t.Errorf("%s ran %.0f cycles over all replicas in %.1fs; once per %.1fs is %.1f", l, got, secs, every, want)
		}
	}
	box.mu.Lock()
	sent := append([]string(nil), box.to...)
	box.mu.Unlock()
	if len(sent) != 2 || !(sent[0] == "bob@example.com" && sent[1] == "carol@example.com" || sent[0] == "carol@example.com" && sent[1] == "bob@example.com") {
		t.Errorf("reminder emails to %v, want one to bob and one to carol", sent)
	}

	// kill -9 the evaluator's leader: another replica leads within one
	// cycle (1s), with a scrape's margin.
	dead := first["slo-evaluator"]
	reps[dead].kill(t)
	killed := time.Now()
	var live []*replica
	for i, r := range reps {
		if i != dead {
			live = append(live, r)
		}
	}
	for {
		lead, _ := leaders(live)
		if lead["slo-evaluator"] >= 0 && lead["postmortem-reminders"] >= 0 {
			t.Logf("new leaders %v after %s", lead, time.Since(killed).Round(time.Millisecond))
			break
		}
		if time.Since(killed) > 1500*time.Millisecond {
			t.Fatalf("no replica leads %v %s after the leader was killed", lead, time.Since(killed).Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond) // polling other processes' metrics
	}
}

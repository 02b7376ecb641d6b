package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/chaos"
)

// A staging service judged by a 300 ms latency SLO (99.9 % of requests
// under 300 ms), pushed from a load loop as native SLI observations.
const e2eConfig = `teams: [{name: payments}]
services: [{name: checkout, team: payments}]
slos:
  - name: checkout-latency-staging
    service: checkout
    environment: staging
    objective: 0.999
    window: 28d
    ingest: {latency_max_ms: 300}
`

func buildTandem(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tandem")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tandemhq/tandem/cmd/tandem")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// loadLoop sends 20 requests a second to url and pushes each one's latency
// and status to the SLO, once a second, until stop is closed.
type loadLoop struct {
	mu   sync.Mutex
	obs  []client.SLOEvent
	sent int
}

func (l *loadLoop) run(t *testing.T, ctx context.Context, c *client.Client, url string) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(50 * time.Millisecond)
	push := time.NewTicker(time.Second)
	defer tick.Stop()
	defer push.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	flush := func() {
		l.mu.Lock()
		batch := l.obs
		l.obs = nil
		l.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.PostSLOEvents(pctx, "checkout-latency-staging", client.SLOBatch{Events: batch}); err != nil {
			t.Errorf("push SLI events: %v", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			flush()
			return
		case <-push.C:
			flush()
		case <-tick.C:
			wg.Add(1)
			go func() {
				defer wg.Done()
				at := time.Now()
				status := 200
				resp, err := hc.Get(url)
				if err != nil {
					status = 503
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				ms := float64(time.Since(at).Microseconds()) / 1000
				l.mu.Lock()
				l.obs = append(l.obs, client.SLOEvent{Time: at, LatencyMs: &ms, Status: &status})
				l.sent++
				l.mu.Unlock()
			}()
		}
	}
}

type runOut struct {
	code   int
	report struct {
		Run         chaos.Run `json:"run"`
		ExitCode    int       `json:"exit_code"`
		CommandExit int       `json:"command_exit"`
		Signals     []string  `json:"signals"`
		Rollback    *struct {
			Command  string `json:"command"`
			ExitCode int    `json:"exit_code"`
		} `json:"rollback"`
	}
	stderr string
}

func runTandem(t *testing.T, bin string, args ...string) runOut {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var r runOut
	r.stderr = errb.String()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run tandem: %v", err)
	}
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &r.report); err != nil {
			t.Fatalf("chaos run output: %v\n%s\nstderr:\n%s", err, out.String(), r.stderr)
		}
	}
	return r
}

// The done-when test of chaos experiments, on real processes: a small
// HTTP service calling its dependency through `tandem chaos proxy`, a
// load loop pushing native SLIs, and `tandem chaos run` giving held with
// 50 ms added, broken with 400 ms against the 300 ms latency SLO, and an
// abort whose command is stopped and whose --rollback runs.
func TestChaosRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs experiments for about a minute")
	}
	bin := buildTandem(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tandem.yaml"), []byte(e2eConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Start(t, apptest.Options{ConfigDir: dir})
	ctx := context.Background()

	// The dependency answers at once.
	dep := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "stock: 7") })}
	depL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go dep.Serve(depL)
	defer dep.Close()
	depAddr := depL.Addr().String()

	// The service calls its dependency through the chaos proxy's address
	// when a proxy listens there, directly otherwise (its fallback
	// endpoint), on a new connection per request.
	proxyAddr := freePort(t)
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		if c, err := d.DialContext(ctx, network, proxyAddr); err == nil {
			return c, nil
		}
		return d.DialContext(ctx, network, depAddr)
	}
	depClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	svc := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := depClient.Get("http://dependency/stock")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	})}
	svcL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go svc.Serve(svcL)
	defer svc.Close()

	// The service's past hour of traffic, all good, ending two minutes ago
	// so that no experiment's first minute holds any of it: 50,000
	// requests a minute keep the 28-day budget and the 1-hour burn rate
	// of the page condition far from what the experiments spend.
	now := time.Now().UTC().Truncate(time.Minute)
	var past []client.SLOEvent
	for m := now.Add(-62 * time.Minute); m.Before(now.Add(-2 * time.Minute)); m = m.Add(time.Minute) {
		good, total := int64(50000), int64(50000)
		past = append(past, client.SLOEvent{Time: m, Good: &good, Total: &total})
	}
	if _, err := srv.Client.PostSLOEvents(ctx, "checkout-latency-staging", client.SLOBatch{Source: "history", BatchID: "past-hour", Events: past}); err != nil {
		t.Fatal(err)
	}

	loopCtx, stopLoop := context.WithCancel(ctx)
	loop := &loadLoop{}
	loopDone := make(chan struct{})
	go func() { loop.run(t, loopCtx, srv.Client, "http://"+svcL.Addr().String()); close(loopDone) }()
	defer func() { stopLoop(); <-loopDone }()

	common := []string{"chaos", "run", "--url", srv.URL, "--token", srv.AdminToken, "--service", "checkout", "--env", "staging",
		"--interval", "1s", "--cooldown", "3s", "--kill-grace", "2s", "--format", "json"}
	proxy := func(latency string) []string {
		return []string{"--", bin, "chaos", "proxy", "--listen", proxyAddr, "--upstream", depAddr, "--latency", latency}
	}
	time.Sleep(3 * time.Second) // the loop's first observations

	// 50 ms through the proxy: every request stays under 300 ms.
	held := runTandem(t, bin, append(append(slices.Clone(common), "--name", "dependency-latency-50ms", "--duration", "8s", "--abort-burn-rate", "10"), proxy("50ms")...)...)
	if held.code != 0 || held.report.Run.Verdict == nil || *held.report.Run.Verdict != chaos.Held {
		t.Fatalf("50 ms: exit %d, run %+v\nstderr:\n%s", held.code, held.report.Run, held.stderr)
	}
	c := held.report.Run.Costs[0]
	// Requests in flight when the proxy stops fail; a few, far under the
	// page condition's burn rate.
	if c.Total == nil || *c.Total < 100 || c.BurnRate == nil || *c.BurnRate >= 13.44 {
		t.Fatalf("50 ms costs %+v", held.report.Run.Costs)
	}
	t.Logf("50 ms: %s, %v events, burn rate %v, budget cost %v", *held.report.Run.Verdict, *c.Total, *c.BurnRate, *c.BudgetCost)

	// 400 ms: every request through the proxy is slower than the SLO's
	// 300 ms; a page condition holds. No abort limit here: the fault runs
	// its duration and is stopped at its end.
	broken := runTandem(t, bin, append(append(slices.Clone(common), "--name", "dependency-latency-400ms", "--duration", "8s", "--abort-burn-rate", "0"), proxy("400ms")...)...)
	if broken.code != 1 || broken.report.Run.Verdict == nil || *broken.report.Run.Verdict != chaos.Broken || broken.report.Run.Aborted {
		t.Fatalf("400 ms: exit %d, run %+v\nstderr:\n%s", broken.code, broken.report.Run, broken.stderr)
	}
	c = broken.report.Run.Costs[0]
	if c.BurnRate == nil || *c.BurnRate <= 13.44 || c.BudgetCost == nil || *c.BudgetCost <= 0 {
		t.Fatalf("400 ms costs %+v", broken.report.Run.Costs)
	}
	if !slices.Equal(broken.report.Signals, []string{"SIGTERM"}) {
		t.Errorf("400 ms: signals %v, want SIGTERM at the end of --duration", broken.report.Signals)
	}
	t.Logf("400 ms: %s (%s), burn rate %v, budget cost %v", *broken.report.Run.Verdict, broken.report.Run.Reason, *c.BurnRate, *c.BudgetCost)

	// Abort: 400 ms for up to two minutes with an abort burn rate of 5;
	// the proxy is stopped as soon as the burn passes it, and the
	// rollback runs.
	marker := filepath.Join(dir, "rolled-back")
	start := time.Now()
	abort := runTandem(t, bin, append(append(slices.Clone(common), "--name", "dependency-latency-abort", "--duration", "2m",
		"--abort-burn-rate", "5", "--rollback", "echo rolled back > "+marker), proxy("400ms")...)...)
	took := time.Since(start)
	if abort.code != 1 || abort.report.Run.Verdict == nil || *abort.report.Run.Verdict != chaos.Broken || !abort.report.Run.Aborted {
		t.Fatalf("abort: exit %d, run %+v\nstderr:\n%s", abort.code, abort.report.Run, abort.stderr)
	}
	if took > time.Minute {
		t.Errorf("the aborted run took %s: the fault was not stopped", took)
	}
	if len(abort.report.Signals) == 0 || abort.report.Signals[0] != "SIGTERM" {
		t.Errorf("abort: signals %v, want SIGTERM first", abort.report.Signals)
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "rolled back\n" {
		t.Errorf("rollback did not run: %q %v", b, err)
	}
	if abort.report.Rollback == nil || abort.report.Rollback.ExitCode != 0 {
		t.Errorf("rollback report %+v", abort.report.Rollback)
	}
	if conn, err := net.DialTimeout("tcp", proxyAddr, time.Second); err == nil {
		conn.Close()
		t.Error("the proxy still listens after the abort")
	}
	t.Logf("abort after %s: %s", took, abort.report.Run.Reason)

	// Each run is a chaos change of staging with its verdict, listed.
	runs, err := srv.Client.ChaosRuns(ctx, "checkout", "staging", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, fmt.Sprintf("%s=%s", r.Name, *r.Verdict))
	}
	want := []string{"dependency-latency-abort=broken", "dependency-latency-400ms=broken", "dependency-latency-50ms=held"}
	if !slices.Equal(got, want) {
		t.Errorf("chaos list %v, want %v", got, want)
	}
	// tandem chaos list prints the same runs.
	list, err := exec.Command(bin, "chaos", "list", "--url", srv.URL, "--token", srv.AdminToken, "--service", "checkout", "--env", "staging").Output()
	if err != nil {
		t.Fatalf("tandem chaos list: %v", err)
	}
	for _, w := range []string{"VERDICT", "dependency-latency-50ms", "held", "dependency-latency-abort", "broken"} {
		if !strings.Contains(string(list), w) {
			t.Errorf("tandem chaos list does not show %q:\n%s", w, list)
		}
	}
	// tandem changes shows each chaos change's verdict beside it.
	cmd := exec.Command(bin, "changes", "--url", srv.URL, "--token", srv.AdminToken, "--service", "checkout", "--env", "staging")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tandem changes: %v", err)
	}
	for _, want := range []string{"chaos held", "chaos broken"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("tandem changes lacks %q:\n%s", want, out)
		}
	}
	loop.mu.Lock()
	t.Logf("load loop sent %d requests", loop.sent)
	loop.mu.Unlock()
}

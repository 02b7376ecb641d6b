package chaos

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

// get fetches url on a new connection and returns how long it took.
func get(t *testing.T, url string) (time.Duration, []byte, error) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return time.Since(start), nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return time.Since(start), b, err
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// The proxy adds the latency it is asked for to a real HTTP upstream,
// measured through it against the upstream directly.
func TestProxyLatency(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer up.Close()
	p, err := StartProxy("127.0.0.1:0", strings.TrimPrefix(up.URL, "http://"), Faults{Latency: 200 * time.Millisecond, Jitter: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var direct, proxied []time.Duration
	for range 7 {
		d, _, err := get(t, up.URL)
		if err != nil {
			t.Fatal(err)
		}
		direct = append(direct, d)
		d, body, err := get(t, "http://"+p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != "ok" {
			t.Fatalf("body through the proxy %q", body)
		}
		proxied = append(proxied, d)
	}
	added := median(proxied) - median(direct)
	t.Logf("median direct %s, through the proxy %s: %s added", median(direct), median(proxied), added)
	if added < 180*time.Millisecond || added > 800*time.Millisecond {
		t.Fatalf("the proxy added %s, want 200ms ± 20ms jitter (and scheduling)", added)
	}
}

// An error rate of 1 resets every connection; a bandwidth cap slows a
// large body down; a timeout cuts the connection after it.
func TestProxyFaults(t *testing.T) {
	big := strings.Repeat("x", 60<<10)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) }))
	defer up.Close()
	upstream := strings.TrimPrefix(up.URL, "http://")

	p, err := StartProxy("127.0.0.1:0", upstream, Faults{ErrorRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := get(t, "http://"+p.Addr()); err == nil {
		t.Error("error rate 1: the request succeeded")
	}
	p.Close()

	p, err = StartProxy("127.0.0.1:0", upstream, Faults{BandwidthKBps: 100})
	if err != nil {
		t.Fatal(err)
	}
	d, body, err := get(t, "http://"+p.Addr())
	p.Close()
	if err != nil || len(body) != len(big) {
		t.Fatalf("bandwidth: %v, %d bytes", err, len(body))
	}
	// 60 KB at 100 KB/s is 0.6 s.
	if d < 500*time.Millisecond {
		t.Errorf("60 KB at 100 KB/s took %s, want about 600ms", d)
	}

	p, err = StartProxy("127.0.0.1:0", upstream, Faults{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err = get(t, "http://"+p.Addr())
	p.Close()
	if err == nil || d < 250*time.Millisecond {
		t.Errorf("timeout 300ms: %v after %s, want a failure after about 300ms", err, d)
	}

	for _, f := range []Faults{{ErrorRate: 1.5}, {Latency: -time.Second}, {Latency: time.Second, Jitter: 2 * time.Second}} {
		if _, err := StartProxy("127.0.0.1:0", upstream, f); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
	if _, err := StartProxy("127.0.0.1:0", "nohost", Faults{}); err == nil {
		t.Error("upstream without a port accepted")
	}
}

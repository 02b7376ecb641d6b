package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/cli"
)

// syncBuffer is a bytes.Buffer written by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveLog runs `tandem serve` with args until it logs that it serves,
// calls do with its URL, stops it and returns its log.
func serveLog(t *testing.T, do func(url string), args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Execute(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, args...),
			strings.NewReader(""), &bytes.Buffer{}, &errOut)
	}()
	url := ""
	for deadline := time.Now().Add(20 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, l := range strings.Split(errOut.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "serving" {
				url, _ = rec["url"].(string)
			} else if i := strings.Index(l, "msg=serving"); i >= 0 {
				if j := strings.Index(l, " url="); j >= 0 {
					url = strings.Fields(l[j+5:])[0]
				}
			}
		}
	}
	if url == "" {
		cancel()
		<-done
		t.Fatalf("serve did not log that it serves:\n%s", errOut.String())
	}
	do(url)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d", code)
	}
	return errOut.String()
}

// --log-format json writes one JSON object a line with time, level and
// msg; --log-level debug adds a line per request naming its route
// pattern, never the path or query that carries a secret; the default
// info level has no request lines; text is key=value.
func TestServeLogFormatAndLevels(t *testing.T) {
	const secret = "tdm_NotARealTokenButSecretLooking"
	requests := func(url string) {
		for _, p := range []string{"/api/v1/actions/v1.1.ack.SignedLinkSecret", "/api/v1/schedules/primary.ics?token=" + secret, "/healthz"} {
			resp, err := http.Get(url + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	out := serveLog(t, requests, "--log-format", "json", "--log-level", "debug")
	var routes []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("not a JSON line: %s", sc.Text())
			continue
		}
		if rec["time"] == nil || rec["level"] == nil || rec["msg"] == nil {
			t.Errorf("line without time, level or msg: %s", sc.Text())
		}
		if rec["msg"] == "request" {
			r, _ := rec["route"].(string)
			routes = append(routes, r)
			if rec["path"] != nil {
				t.Errorf("a request line carries the path: %s", sc.Text())
			}
		}
	}
	if strings.Join(routes, " ") != "/api/v1/actions/{token} /api/v1/schedules/{name}" {
		t.Errorf("request lines name routes %q; want the two API routes (probes are not logged)", routes)
	}
	for _, leak := range []string{secret, "SignedLinkSecret"} {
		if strings.Contains(out, leak) {
			t.Errorf("the log holds %s:\n%s", leak, out)
		}
	}

	out = serveLog(t, requests)
	if !strings.Contains(out, "level=INFO msg=serving") || strings.Contains(out, "msg=request") || strings.Contains(out, "level=DEBUG") {
		t.Errorf("default text log at info:\n%s", out)
	}
}

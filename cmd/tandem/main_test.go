package main_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/tandem once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tandem-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tandem")
		args := append([]string{"build"}, raceFlags...)
		out, err := exec.Command("go", append(args, "-o", binPath, ".")...).CombinedOutput()
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

// proc is a running tandem process.
type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Scanner
	addr   chan string // the address from the "serving" log line
	done   chan error
}

// start runs the binary with args and JSON logs on stderr.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "TANDEM_LOG_FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: bufio.NewScanner(stdout), addr: make(chan string, 1), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				p.addr <- line.Addr
			} else if testing.Verbose() {
				t.Log(sc.Text())
			}
		}
		close(p.addr)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p
}

// url waits for the server to listen and returns its base URL.
func (p *proc) url(t *testing.T) string {
	t.Helper()
	addr, ok := <-p.addr
	if !ok {
		t.Fatalf("%v exited before serving: %v", p.cmd.Args, p.cmd.Wait())
	}
	return "http://" + addr
}

// stop sends SIGTERM and checks the process exits 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("%v after SIGTERM: %v", p.cmd.Args[:2], err)
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Two `tandem serve` processes started at the same moment on one empty
// PostgreSQL database both come up, and the schema is migrated once.
func TestTwoServeProcessesOnePostgres(t *testing.T) {
	url := dbtest.PostgresURL(t)
	var procs []*proc
	for range 2 {
		procs = append(procs, start(t, "serve", "--database-url", url, "--listen", "127.0.0.1:0", "--config", apptest.ExamplesDir(t)))
	}
	for _, p := range procs {
		base := p.url(t)
		if code, body := get(t, base+"/readyz", ""); code != 200 {
			t.Errorf("%s/readyz: %d %s", base, code, body)
		}
	}
	conn, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query("SELECT version_id, COUNT(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v, n int64
		rows.Scan(&v, &n)
		if n != 1 {
			t.Errorf("migration %d applied %d times", v, n)
		}
		versions = append(versions, v)
	}
	if len(versions) == 0 || versions[0] != 1 {
		t.Errorf("applied migrations: %v", versions)
	}
	for _, p := range procs {
		p.stop(t)
	}
}

// `tandem serve` on an empty SQLite directory: comes up, answers 401 without
// a token and 200 with a read token made by `tandem token create` on the same
// data directory, and stops cleanly on SIGTERM.
func TestServeSQLite(t *testing.T) {
	dir := t.TempDir()
	binary(t)
	began := time.Now()
	p := start(t, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--config", apptest.ExamplesDir(t))
	base := p.url(t)
	t.Logf("serving %v after exec on an empty SQLite directory (with the process start)", time.Since(began))
	if code, body := get(t, base+"/healthz", ""); code != 200 {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, _ := get(t, base+"/api/v1/services", ""); code != 401 {
		t.Errorf("services without a token: %d", code)
	}
	out, err := exec.Command(binary(t), "token", "create", "--name", "reader", "--scope", "read", "--data-dir", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, base+"/api/v1/services", strings.TrimSpace(string(out)))
	if code != 200 || !strings.Contains(body, `"name":"checkout"`) {
		t.Errorf("services with a read token: %d %s", code, body)
	}
	p.stop(t)
}

// `tandem demo` serves the example org with reads open and prints an admin
// token that writes need.
func TestDemo(t *testing.T) {
	p := start(t, "demo", "--listen", "127.0.0.1:0", "--days", "7")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var text strings.Builder
	base, token := "", ""
	tokenRE := regexp.MustCompile(`token\s+(tdm_\S+)`)
	urlRE := regexp.MustCompile(`dashboard\s+(http://\S+)/`)
	for ctx.Err() == nil && p.stdout.Scan() {
		line := p.stdout.Text()
		text.WriteString(line + "\n")
		if m := urlRE.FindStringSubmatch(line); m != nil {
			base = m[1]
		}
		if m := tokenRE.FindStringSubmatch(line); m != nil {
			token = m[1]
		}
		if strings.Contains(line, "Ctrl-C") {
			break
		}
	}
	if base == "" || token == "" {
		t.Fatalf("demo output lacks the URL or the token:\n%s", text.String())
	}
	if code, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Errorf("healthz: %d", code)
	}
	if code, body := get(t, base+"/api/v1/services", ""); code != 200 || !strings.Contains(body, `"name":"checkout"`) {
		t.Errorf("services without a token (public read): %d %s", code, body)
	}
	if code, _ := get(t, base+"/", ""); code != 200 {
		t.Errorf("dashboard: %d", code)
	}
	// Writes need the printed token.
	req, _ := http.NewRequest("POST", base+"/api/v1/admin/reload", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("reload without a token: %d", resp.StatusCode)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("reload with the printed token: %d", resp.StatusCode)
	}
	p.cmd.Process.Signal(os.Interrupt)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("demo after Ctrl-C: %v", err)
	}
}

func TestVersionBinary(t *testing.T) {
	out, err := exec.Command(binary(t), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "tandem ") {
		t.Errorf("version: %v %s", err, out)
	}
}

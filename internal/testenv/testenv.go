// Package testenv finds the real servers and tools that integration tests
// run against (Prometheus, promtool, Alertmanager, Chromium). scripts/test.sh
// installs them and sets TANDEM_TEST_REQUIRE_ALL=1, so in `make test` a
// missing one fails the test instead of skipping it.
package testenv

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// Binary returns the path of a program for the test: the value of envVar
// when set, else name looked up on PATH. When it is missing the test is
// skipped, or failed under TANDEM_TEST_REQUIRE_ALL=1.
func Binary(t testing.TB, envVar, name string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Missing(t, name+" not found (set "+envVar+" or install it; scripts/test.sh does)")
	return ""
}

// Missing skips the test, or fails it under TANDEM_TEST_REQUIRE_ALL=1.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("TANDEM_TEST_REQUIRE_ALL") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// servers that cannot listen on :0 themselves.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

package cli_test

import (
	"net"
	"strings"
	"testing"
)

// A port another process holds is explained with the flag that picks
// another one.
func TestServeAddressInUseNamesListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errOut := run(t, "serve", "--listen", ln.Addr().String(), "--data-dir", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "address already in use") || !strings.Contains(errOut, "--listen") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming the address in use and --listen", code, errOut)
	}
}

// Trusted proxies that are not addresses are refused before anything
// starts.
func TestServeRefusesBadTrustedProxy(t *testing.T) {
	code, _, errOut := run(t, "serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--trusted-proxies", "10.0.0.0/8,proxy.example")
	if code != 1 || !strings.Contains(errOut, "proxy.example") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming proxy.example", code, errOut)
	}
}

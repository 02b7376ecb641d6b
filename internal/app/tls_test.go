package app_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app"
)

// selfSigned writes a certificate for 127.0.0.1 named cn, and its key,
// into dir, and returns the certificate.
func selfSigned(t *testing.T, dir, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Written to temporary names and renamed, as a certificate manager
	// does, so the server never reads half a file.
	for name, block := range map[string]*pem.Block{
		"tls.crt": {Type: "CERTIFICATE", Bytes: der},
		"tls.key": {Type: "EC PRIVATE KEY", Bytes: kder},
	} {
		tmp := filepath.Join(dir, name+".new")
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// servedName connects afresh and returns the common name of the
// certificate the server presents.
func servedName(t *testing.T, url string, roots *x509.CertPool) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over TLS: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %s", resp.Status)
	}
	return resp.TLS.PeerCertificates[0].Subject.CommonName
}

// tandem serves HTTPS with the given certificate and, on SIGHUP, serves
// the renewed one from the same files without a restart; a broken
// renewal leaves the previous certificate serving.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	first := selfSigned(t, dir, "first")
	reloaded := make(chan error, 1)
	m, err := app.New(context.Background(), app.Options{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Log: quiet(), HandleSignals: true,
		TLSCertFile: filepath.Join(dir, "tls.crt"), TLSKeyFile: filepath.Join(dir, "tls.key"),
		AfterSignalReload: func(err error) { reloaded <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	started(t, m)
	if !strings.HasPrefix(m.URL(), "https://") {
		t.Fatalf("URL() = %s, want https", m.URL())
	}
	roots := x509.NewCertPool()
	roots.AddCert(first)
	if got := servedName(t, m.URL(), roots); got != "first" {
		t.Fatalf("served %q, want first", got)
	}
	// Plain HTTP to the TLS port is not served.
	if resp, err := http.Get(strings.Replace(m.URL(), "https", "http", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}

	second := selfSigned(t, dir, "second")
	roots.AddCert(second)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := <-reloaded; err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := servedName(t, m.URL(), roots); got != "second" {
		t.Fatalf("after SIGHUP served %q, want second", got)
	}

	if err := os.WriteFile(filepath.Join(dir, "tls.key"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := <-reloaded; err == nil || !strings.Contains(err.Error(), "tls.key") {
		t.Fatalf("reload of a broken key: err = %v, want one naming tls.key", err)
	}
	if got := servedName(t, m.URL(), roots); got != "second" {
		t.Fatalf("after a broken renewal served %q, want second still", got)
	}
}

// A certificate without its key (or the other way round) is refused at
// start, not served half-configured.
func TestTLSNeedsBothFiles(t *testing.T) {
	dir := t.TempDir()
	selfSigned(t, dir, "x")
	_, err := app.New(context.Background(), app.Options{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Log: quiet(), TLSCertFile: filepath.Join(dir, "tls.crt"),
	})
	if err == nil || !strings.Contains(err.Error(), "--tls-key") {
		t.Fatalf("New with a certificate and no key: %v, want an error naming --tls-key", err)
	}
}

// syncBuffer is a log destination safe for the server's goroutines.
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

// serve starts a server on listen and returns what it logged once it
// answers.
func serveLog(t *testing.T, o app.Options) string {
	t.Helper()
	var buf syncBuffer
	o.Log = slog.New(slog.NewTextHandler(&buf, nil))
	o.DataDir = t.TempDir()
	m, err := app.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	started(t, m)
	resp, err := http.Get(m.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return buf.String()
}

// serve warns when it listens beyond loopback without TLS, and not on
// loopback.
func TestPlainHTTPBeyondLoopbackWarns(t *testing.T) {
	if log := serveLog(t, app.Options{Listen: ":0"}); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "plain HTTP beyond loopback") {
		t.Errorf("listening on every interface without TLS logged no warning:\n%s", log)
	}
	if log := serveLog(t, app.Options{Listen: "127.0.0.1:0"}); strings.Contains(log, "plain HTTP") {
		t.Errorf("listening on loopback warned:\n%s", log)
	}
}

// Forwarding headers count only from a trusted proxy: from anyone else
// X-Forwarded-Proto cannot make the dashboard's session cookie think the
// connection is HTTPS, and X-Forwarded-For cannot change the client
// address that is logged.
func TestTrustedProxies(t *testing.T) {
	trusted, err := app.ParseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.ParseTrustedProxies([]string{"not-an-ip"}); err == nil {
		t.Error("ParseTrustedProxies accepted not-an-ip")
	}
	type seen struct{ proto, remote string }
	got := make(chan seen, 1)
	h := app.TrustProxies(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Get("X-Forwarded-Proto"), r.RemoteAddr}
	}))
	for _, tc := range []struct {
		peer, xff string
		want      seen
	}{
		{"203.0.113.9:4000", "198.51.100.1", seen{"", "203.0.113.9:4000"}},            // not a proxy: headers dropped
		{"10.1.2.3:4000", "198.51.100.1", seen{"https", "198.51.100.1:0"}},            // trusted: the client it names
		{"192.0.2.7:4000", "198.51.100.1, 10.9.9.9", seen{"https", "198.51.100.1:0"}}, // through two trusted hops
		{"10.1.2.3:4000", "", seen{"https", "10.1.2.3:4000"}},                         // trusted, no client named
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		r.Header.Set("X-Forwarded-Proto", "https")
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		h.ServeHTTP(nil, r)
		if s := <-got; s != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: handler saw %+v, want %+v", tc.peer, tc.xff, s, tc.want)
		}
	}
}

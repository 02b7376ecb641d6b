package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Faults are what a chaos proxy does to the traffic through it. Zero
// values add nothing.
type Faults struct {
	// Latency is added to every response, with Jitter (uniform, ±) around it.
	Latency, Jitter time.Duration
	// ErrorRate is the share of connections reset at once (a TCP RST), from
	// 0 to 1.
	ErrorRate float64
	// BandwidthKBps caps the responses' throughput in KB/s.
	BandwidthKBps int64
	// Timeout stops the requests on a connection and closes it after Timeout
	// (TimeoutRate of the connections, default all).
	Timeout     time.Duration
	TimeoutRate float64
}

// Check reports the first value out of range, naming its flag.
func (f Faults) Check() error {
	switch {
	case f.Latency < 0 || f.Latency > time.Hour:
		return fmt.Errorf("--latency: want 0 to 1h, got %s", f.Latency)
	case f.Jitter < 0 || f.Jitter > f.Latency && f.Latency > 0 || f.Jitter > time.Hour:
		return fmt.Errorf("--jitter: want 0 up to --latency, got %s", f.Jitter)
	case math.IsNaN(f.ErrorRate) || f.ErrorRate < 0 || f.ErrorRate > 1:
		return fmt.Errorf("--error-rate: want a share from 0 to 1, got %v", f.ErrorRate)
	case f.BandwidthKBps < 0:
		return fmt.Errorf("--bandwidth: want KB/s above 0, got %d", f.BandwidthKBps)
	case f.Timeout < 0 || f.Timeout > 24*time.Hour:
		return fmt.Errorf("--timeout: want 0 to 24h, got %s", f.Timeout)
	case math.IsNaN(f.TimeoutRate) || f.TimeoutRate < 0 || f.TimeoutRate > 1:
		return fmt.Errorf("--timeout-rate: want a share from 0 to 1, got %v", f.TimeoutRate)
	}
	return nil
}

// toxic is one Toxiproxy toxic as its API takes it.
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float64        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

func (f Faults) toxics() []toxic {
	var out []toxic
	if f.Latency > 0 {
		out = append(out, toxic{Name: "latency", Type: "latency", Stream: "downstream", Toxicity: 1,
			Attributes: map[string]any{"latency": f.Latency.Milliseconds(), "jitter": f.Jitter.Milliseconds()}})
	}
	if f.ErrorRate > 0 {
		out = append(out, toxic{Name: "errors", Type: "reset_peer", Stream: "downstream", Toxicity: f.ErrorRate,
			Attributes: map[string]any{"timeout": 0}})
	}
	if f.BandwidthKBps > 0 {
		out = append(out, toxic{Name: "bandwidth", Type: "bandwidth", Stream: "downstream", Toxicity: 1,
			Attributes: map[string]any{"rate": f.BandwidthKBps}})
	}
	if f.Timeout > 0 {
		rate := f.TimeoutRate
		if rate == 0 {
			rate = 1
		}
		// On the requests' stream: nothing reaches the upstream, and the
		// connection closes after the timeout, as a dependency that hangs.
		out = append(out, toxic{Name: "timeout", Type: "timeout", Stream: "upstream", Toxicity: rate,
			Attributes: map[string]any{"timeout": f.Timeout.Milliseconds()}})
	}
	return out
}

// Proxy is a TCP proxy that degrades the traffic to an upstream, built on
// Shopify's Toxiproxy.
type Proxy struct {
	p *toxiproxy.Proxy
}

// StartProxy listens on listen ("127.0.0.1:0" picks a port) and forwards
// to upstream with the faults applied.
func StartProxy(listen, upstream string, f Faults) (*Proxy, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		return nil, fmt.Errorf("--upstream: want host:port, got %q", upstream)
	}
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "tandem-chaos", listen, upstream)
	for _, t := range f.toxics() {
		b, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		if _, err := p.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("toxic %s: %w", t.Name, err)
		}
	}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", listen, err)
	}
	return &Proxy{p: p}, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() string { return p.p.Listen }

// Close stops the proxy and its connections.
func (p *Proxy) Close() { p.p.Stop() }

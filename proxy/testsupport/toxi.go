package testsupport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Toxiproxy is Shopify's toxiproxy (v2.5.0, as a library) on loopback in
// front of an upstream address, usually a real proxy (microsocks,
// tinyproxy) in front of the fake API: the bad road of issue 9 (latency
// with jitter, resets, bandwidth, slicing) between Ferry and its proxy.
// Toxiproxy decides per connection; per-stream stalls and cuts come from
// the fake API's scenarios.
type Toxiproxy struct {
	Addr string
	p    *toxiproxy.Proxy
}

// StartToxiproxy starts one toxiproxy in front of upstream; it stops when
// the test ends.
func StartToxiproxy(t testing.TB, upstream string) *Toxiproxy {
	t.Helper()
	x, err := NewToxiproxy(upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Stop)
	return x
}

// NewToxiproxy starts one toxiproxy in front of upstream, for benchmark
// programs; Stop it.
func NewToxiproxy(upstream string) (*Toxiproxy, error) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "ferry-road", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("start toxiproxy: %w", err)
	}
	return &Toxiproxy{Addr: p.Listen, p: p}, nil
}

// Stop closes the listener and every connection through it.
func (x *Toxiproxy) Stop() { x.p.Stop() }

// Add adds a toxic: typ is toxiproxy's (latency, reset_peer, bandwidth,
// slicer, timeout, ...), stream "upstream" or "downstream", toxicity the
// share of connections it applies to (0 < toxicity ≤ 1), attrs its
// attributes as toxiproxy's API takes them.
func (x *Toxiproxy) Add(name, typ, stream string, toxicity float64, attrs map[string]any) error {
	b, err := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": toxicity, "attributes": attrs})
	if err != nil {
		return err
	}
	if _, err := x.p.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("add toxic %s: %w", name, err)
	}
	return nil
}

// Remove removes a toxic by name.
func (x *Toxiproxy) Remove(name string) error {
	return x.p.Toxics.RemoveToxic(context.Background(), name)
}

// SetRTT adds a round trip of rtt ± jitter: half each way, as the latency
// toxics "rtt_up" and "rtt_down" (replacing earlier ones). Zero removes
// them.
func (x *Toxiproxy) SetRTT(rtt, jitter time.Duration) error {
	for _, n := range []string{"rtt_up", "rtt_down"} {
		_ = x.Remove(n)
	}
	if rtt <= 0 {
		return nil
	}
	half := map[string]any{"latency": (rtt / 2).Milliseconds(), "jitter": (jitter / 2).Milliseconds()}
	if err := x.Add("rtt_up", "latency", "upstream", 1, half); err != nil {
		return err
	}
	return x.Add("rtt_down", "latency", "downstream", 1, half)
}

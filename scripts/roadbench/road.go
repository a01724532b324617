package main

// The parts on both ends of the road: the fake API behind microsocks behind
// toxiproxy, Ferry's core, and the bare reverse proxy.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/retry"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// road is the fake API behind microsocks behind toxiproxy, or with -near
// the fake API behind toxiproxy behind microsocks (the user's own proxy on
// the laptop, the long road beyond it).
type road struct {
	scheme string // of the route's URL: socks5 or http
	proxy  string // the route's proxy: toxiproxy's address, or microsocks' with -near
	fake   *testsupport.FakeAPI
	toxi   *testsupport.Toxiproxy
	socks  *exec.Cmd
	base   *url.URL
	roots  *x509.CertPool
}

func startRoad(c config) (*road, error) {
	certs, err := os.MkdirTemp("", "roadbench-certs")
	if err != nil {
		return nil, err
	}
	fake, err := testsupport.StartFakeAPI("127.0.0.1:0", certs, testsupport.WithRecordLimit(16))
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	scheme := "socks5"
	var socks *exec.Cmd
	switch c.via {
	case "microsocks":
		socks = exec.Command("microsocks", "-i", "127.0.0.1", "-p", strconv.Itoa(port))
	case "tinyproxy":
		scheme = "http"
		conf := filepath.Join(certs, "tinyproxy.conf")
		text := fmt.Sprintf("Port %d\nListen 127.0.0.1\nTimeout 600\nMaxClients 256\nAllow 127.0.0.1\nDisableViaHeader Yes\n", port)
		if os.Geteuid() == 0 {
			text += "User nobody\nGroup nogroup\n" // tinyproxy refuses to run as root
		}
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return nil, err
		}
		socks = exec.Command("tinyproxy", "-d", "-c", conf)
	default:
		return nil, fmt.Errorf("-via %q: want microsocks or tinyproxy", c.via)
	}
	if err := socks.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w (apt-get install %s)", c.via, err, c.via)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		cn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			cn.Close()
			break
		}
		if i > 100 {
			return nil, fmt.Errorf("%s did not listen on %s", c.via, addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Far: toxiproxy in front of the proxy. Near: the proxy in front of
	// toxiproxy, which fronts the fake (its certificate names 127.0.0.1,
	// whatever the port).
	base, _ := url.Parse(fake.URL)
	behind := addr
	if c.near {
		behind = base.Host
	}
	toxi, err := testsupport.NewToxiproxy(behind)
	if err != nil {
		return nil, err
	}
	proxy := toxi.Addr
	if c.near {
		base.Host, proxy = toxi.Addr, addr
	}
	return &road{scheme: scheme, proxy: proxy, fake: fake, toxi: toxi, socks: socks, base: base, roots: fake.CertPool}, nil
}

func (r *road) stop() {
	r.toxi.Stop()
	r.socks.Process.Kill()
	r.socks.Wait()
	r.fake.Close()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ferry is Ferry's core on a loopback listener.
type ferry struct {
	retries *atomic.Int64 // the retry policy's "again" decisions
	url     string
	m       *route.Manager
	srv     *http.Server
	cancel  context.CancelFunc
	done    chan struct{}
}

func startFerry(r *road, c config, warm bool, streamIdle time.Duration) (*ferry, error) {
	st := &memSettings{routes: []route.Route{{Name: "Abroad", URL: r.scheme + "://" + r.proxy}}}
	m, err := route.NewManager(route.ManagerOptions{
		Settings: st, Target: r.base, Interval: time.Hour,
		Dial: route.DialOptions{RootCAs: r.roots, ConnectTimeout: 10 * time.Second, IdleConnTimeout: c.idle},
	})
	if err != nil {
		return nil, err
	}
	m.SetKeepWarm(warm)
	retries := &atomic.Int64{}
	p, err := proxy.New(proxy.Options{
		APIBase: r.base, Routes: m, Retry: counting{&retry.Policy{}, retries},
		StreamIdleTimeout: streamIdle, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &ferry{retries: retries, url: "http://" + ln.Addr().String(), m: m, srv: &http.Server{Handler: p}, cancel: cancel, done: make(chan struct{})}
	go f.srv.Serve(ln)
	go func() { defer close(f.done); m.Run(ctx) }()
	return f, nil
}

func (f *ferry) stop() {
	f.cancel()
	<-f.done
	f.srv.Close()
	f.m.CloseIdleConnections()
}

// waitWarm waits for the serving route's warm connection, as a user's
// first request comes seconds after Ferry started at login.
func (f *ferry) waitWarm() bool {
	for range 200 {
		for _, s := range f.m.Routes() {
			if s.Warm {
				return true
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

// counting counts the policy's decisions to try again.
type counting struct {
	p *retry.Policy
	n *atomic.Int64
}

func (c counting) Decide(out *proxy.Outgoing, n int, last proxy.AttemptResult, since time.Duration) proxy.RetryDecision {
	d := c.p.Decide(out, n, last, since)
	if d.Again {
		c.n.Add(1)
	}
	return d
}

type memSettings struct{ routes []route.Route }

func (s *memSettings) GetSetting(key string, into any) (bool, error) {
	if dst, ok := into.(*[]route.Route); ok && key == route.SettingRoutes {
		*dst = slices.Clone(s.routes)
		return true, nil
	}
	return false, nil
}

func (s *memSettings) PutSetting(string, any) error { return nil }

// bare is httputil.ReverseProxy with the same route.
type bare struct {
	url string
	t   *http.Transport
	srv *http.Server
}

func startBare(r *road, c config) (*bare, error) {
	t := &http.Transport{
		Proxy:               http.ProxyURL(&url.URL{Scheme: r.scheme, Host: r.proxy}),
		TLSClientConfig:     &tls.Config{RootCAs: r.roots},
		ForceAttemptHTTP2:   true,
		IdleConnTimeout:     c.idle,
		MaxIdleConnsPerHost: 64,
		DisableCompression:  true,
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(r.base) },
		Transport:     t,
		FlushInterval: -1,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &bare{url: "http://" + ln.Addr().String(), t: t, srv: &http.Server{Handler: rp}}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *bare) stop() { b.srv.Close(); b.t.CloseIdleConnections() }

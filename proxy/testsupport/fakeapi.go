package testsupport

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ScenarioHeader is the request header that picks a scenario.
const ScenarioHeader = "x-fake-scenario"

// MaxRecordedBody is how much of each request body the fake keeps in
// Request.Body; larger bodies are still read, counted and hashed.
const MaxRecordedBody = 64 << 20

// OrganizationID is the anthropic-organization-id the fake sends.
const OrganizationID = "0f0e0d0c-fa4e-4f0e-8e77-000000000001"

// Request is what the fake saw of one request.
type Request struct {
	Seq       int         // 1, 2, … in arrival order
	Method    string      //
	URI       string      // path and query as received ("/v1/messages?beta=true")
	Path      string      // path only
	Host      string      // the Host header / :authority
	Header    http.Header // as received (read-only)
	Body      []byte      // first MaxRecordedBody bytes of the body (read-only)
	BodyLen   int64       // full body length
	BodySHA   [32]byte    // SHA-256 of the full body
	Proto     string      // "HTTP/1.1" or "HTTP/2.0"
	TLS       bool        //
	Scenario  string      // the scenario string that answered
	RequestID string      // the request-id header sent back
	Status    int         // the status sent (0 if the client left before the headers)
	Gzip      bool        // the response was gzip-encoded
	Done      bool        // the handler has finished
	Cancelled bool        // the client went away (request context cancelled) before the response was complete
}

// Option configures a FakeAPI.
type Option func(*FakeAPI)

// WithScenario sets the scenario for POST /v1/messages requests that carry no
// x-fake-scenario header (without it they get "stream" or "message" by the
// request's "stream" field).
func WithScenario(s string) Option { return func(f *FakeAPI) { f.scenario = s } }

// WithGzip sets when responses are gzip-encoded (default GzipNever).
func WithGzip(m GzipMode) Option { return func(f *FakeAPI) { f.gzip = m } }

// WithRecordLimit keeps only the last n requests (0, the default: all), for
// long runs such as benchmarks.
func WithRecordLimit(n int) Option { return func(f *FakeAPI) { f.recordLimit = n } }

// FakeAPI is a fake Anthropic API on 127.0.0.1. Its zero value is not usable:
// start one with NewFakeAPI, NewFakeAPITLS or StartFakeAPI.
type FakeAPI struct {
	URL      string         // base URL: http://127.0.0.1:PORT or https://127.0.0.1:PORT
	Addr     string         // host:port it listens on
	CAPath   string         // PEM file of the CA that signed its certificate (TLS only)
	CertPool *x509.CertPool // pool holding that CA (TLS only)

	t        testing.TB // nil outside tests
	srv      *http.Server
	ln       net.Listener
	closing  chan struct{}
	closed   sync.Once
	served   chan struct{}
	handlers sync.WaitGroup

	mu          sync.Mutex
	scenario    string
	gzip        GzipMode
	recordLimit int
	seq         int
	reqs        []*Request
	changed     chan struct{} // closed and replaced on every change to reqs
}

// NewFakeAPI starts the fake over plain HTTP on a free loopback port and
// stops it in t.Cleanup.
func NewFakeAPI(t testing.TB, opts ...Option) *FakeAPI {
	t.Helper()
	f, err := StartFakeAPI("127.0.0.1:0", "", opts...)
	if err != nil {
		t.Fatalf("start fake API: %v", err)
	}
	f.t = t
	t.Cleanup(f.Close)
	return f
}

// NewFakeAPITLS starts the fake over HTTPS with HTTP/2 enabled, its
// certificate signed by a fresh CA written to t.TempDir() (CAPath, CertPool)
// and valid for 127.0.0.1, ::1, localhost and FakeHostname.
func NewFakeAPITLS(t testing.TB, opts ...Option) *FakeAPI {
	t.Helper()
	f, err := StartFakeAPI("127.0.0.1:0", t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("start TLS fake API: %v", err)
	}
	f.t = t
	t.Cleanup(f.Close)
	return f
}

// StartFakeAPI serves the fake on addr: plain HTTP when certDir is "",
// otherwise HTTPS (HTTP/2 and HTTP/1.1) with ca.pem, cert.pem and key.pem
// from certDir, created there when missing. Close stops it.
func StartFakeAPI(addr, certDir string, opts ...Option) (*FakeAPI, error) {
	f := &FakeAPI{closing: make(chan struct{}), served: make(chan struct{}), changed: make(chan struct{})}
	for _, o := range opts {
		o(f)
	}
	if f.scenario != "" {
		if _, err := parseScenario(f.scenario); err != nil {
			return nil, err
		}
	}
	f.srv = &http.Server{
		Handler:           f,
		ReadHeaderTimeout: 30 * time.Second,
		// Probes that connect and hang up would otherwise print TLS
		// handshake errors into every test's output.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	scheme := "http"
	if certDir != "" {
		cs, err := loadOrCreateCerts(certDir)
		if err != nil {
			return nil, err
		}
		f.CAPath, f.CertPool = cs.CAPath, cs.Pool
		f.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cs.Cert}, NextProtos: []string{"h2", "http/1.1"}}
		scheme = "https"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fake API listen %s: %w", addr, err)
	}
	f.ln = ln
	f.Addr = ln.Addr().String()
	f.URL = scheme + "://" + f.Addr
	go func() {
		defer close(f.served)
		if certDir != "" {
			f.srv.ServeTLS(ln, "", "")
		} else {
			f.srv.Serve(ln)
		}
	}()
	return f, nil
}

// Close stops the fake: handlers waiting in a gap end at once, connections
// are closed. Safe to call more than once.
func (f *FakeAPI) Close() {
	f.closed.Do(func() {
		f.mu.Lock()
		close(f.closing)
		f.mu.Unlock()
		// Not Shutdown: it would wait for clients to drop idle HTTP/2
		// connections. Handlers end promptly once closing is closed.
		f.srv.Close()
		<-f.served
		f.handlers.Wait()
	})
}

// SetScenario changes the default scenario for POST /v1/messages ("" restores
// the automatic choice).
func (f *FakeAPI) SetScenario(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scenario = s
}

// SetGzip changes when responses are gzip-encoded.
func (f *FakeAPI) SetGzip(m GzipMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gzip = m
}

// Client returns an HTTP client for talking to the fake directly (no proxy):
// it trusts the fake's CA and uses HTTP/2 over TLS. It does not ask for gzip
// by itself, so bodies arrive as sent.
func (f *FakeAPI) Client() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		ForceAttemptHTTP2:   true,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 64,
	}
	if f.CertPool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: f.CertPool}
	}
	return &http.Client{Transport: tr}
}

// Requests returns copies of the recorded requests in arrival order.
func (f *FakeAPI) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.reqs))
	for i, r := range f.reqs {
		out[i] = *r
	}
	return out
}

// Last returns the most recent request; it fails the test when there is none.
func (f *FakeAPI) Last() Request {
	rs := f.Requests()
	if len(rs) == 0 {
		f.fatalf("fake API: no request received")
		return Request{}
	}
	return rs[len(rs)-1]
}

// Reset forgets the recorded requests.
func (f *FakeAPI) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = nil
	f.notifyLocked()
}

// WaitFor waits until cond holds for the recorded requests (checked on every
// change) or timeout passes, and reports whether it held.
func (f *FakeAPI) WaitFor(timeout time.Duration, cond func([]Request) bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		if cond(f.Requests()) {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return cond(f.Requests())
		}
	}
}

// WaitRequests waits until at least n requests have finished (Done) and
// returns all recorded requests; it fails the test on timeout.
func (f *FakeAPI) WaitRequests(n int, timeout time.Duration) []Request {
	ok := f.WaitFor(timeout, func(rs []Request) bool {
		done := 0
		for _, r := range rs {
			if r.Done {
				done++
			}
		}
		return done >= n
	})
	if !ok {
		f.fatalf("fake API: fewer than %d finished requests after %v (have %d)", n, timeout, len(f.Requests()))
	}
	return f.Requests()
}

// WaitCancelled waits until some request was cancelled by its client and
// returns the first such request; ok is false on timeout.
func (f *FakeAPI) WaitCancelled(timeout time.Duration) (r Request, ok bool) {
	f.WaitFor(timeout, func(rs []Request) bool {
		for _, x := range rs {
			if x.Cancelled {
				r, ok = x, true
				return true
			}
		}
		return false
	})
	return r, ok
}

// ExpectedBody is Body for tests: it fails the test instead of returning an
// error.
func (f *FakeAPI) ExpectedBody(scenario string) []byte {
	b, err := Body(scenario)
	if err != nil {
		f.fatalf("fake API: expected body: %v", err)
	}
	return b
}

// ExpectedGzipBody is GzipBody for tests.
func (f *FakeAPI) ExpectedGzipBody(scenario string) []byte {
	b, err := GzipBody(scenario)
	if err != nil {
		f.fatalf("fake API: expected gzip body: %v", err)
	}
	return b
}

// ExpectedUsage is the package's ExpectedUsage for tests.
func (f *FakeAPI) ExpectedUsage(scenario string) Usage {
	u, ok, err := ExpectedUsage(scenario)
	if err != nil || !ok {
		f.fatalf("fake API: scenario %q has no usage (%v)", scenario, err)
	}
	return u
}

func (f *FakeAPI) fatalf(format string, args ...any) {
	if f.t != nil {
		f.t.Helper()
		f.t.Fatalf(format, args...)
	}
	panic(fmt.Sprintf(format, args...))
}

func (f *FakeAPI) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *FakeAPI) update(r *Request, fn func(*Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(r)
	f.notifyLocked()
}

// readBody keeps the first MaxRecordedBody bytes and hashes everything.
func readBody(r io.Reader) (kept []byte, n int64, sum [32]byte) {
	h := sha256.New()
	var buf [32 << 10]byte
	for {
		m, err := r.Read(buf[:])
		if m > 0 {
			h.Write(buf[:m])
			if len(kept) < MaxRecordedBody {
				kept = append(kept, buf[:min(m, MaxRecordedBody-len(kept))]...)
			}
			n += int64(m)
		}
		if err != nil {
			break
		}
	}
	copy(sum[:], h.Sum(nil))
	return kept, n, sum
}

func (f *FakeAPI) isClosing() bool {
	select {
	case <-f.closing:
		return true
	default:
		return false
	}
}

// defaultScenario picks the scenario for a request without the header.
func (f *FakeAPI) defaultScenario(r *http.Request, body []byte) string {
	var req struct {
		Stream bool `json:"stream"`
	}
	json.Unmarshal(body, &req)
	f.mu.Lock()
	configured := f.scenario
	f.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/v1/messages":
		if configured != "" {
			return configured
		}
		if req.Stream {
			return ScenarioStream
		}
		return ScenarioMessage
	case p == "/v1/messages/count_tokens":
		return ScenarioCountTokens
	case p == "/v1/models" || strings.HasPrefix(p, "/v1/models/"):
		return ScenarioModels
	case p == "/v1/chat/completions":
		if req.Stream {
			return ScenarioOpenAIStream
		}
		return ScenarioOpenAI
	case p == "/api/hello":
		return ScenarioEcho
	case strings.HasPrefix(p, "/v1/") && r.Method != http.MethodGet && r.Method != http.MethodHead:
		return ScenarioEcho
	}
	return ScenarioError + ";status=404"
}

func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
				continue
			}
			q := strings.ReplaceAll(params, " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}

func setRateLimitHeaders(h http.Header, exhausted bool) {
	reset := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	for _, l := range []struct {
		kind  string
		limit int
	}{{"requests", 4000}, {"tokens", 2_000_000}, {"input-tokens", 1_600_000}, {"output-tokens", 400_000}} {
		remaining := l.limit - 1
		if exhausted {
			remaining = 0
		}
		h.Set("anthropic-ratelimit-"+l.kind+"-limit", strconv.Itoa(l.limit))
		h.Set("anthropic-ratelimit-"+l.kind+"-remaining", strconv.Itoa(remaining))
		h.Set("anthropic-ratelimit-"+l.kind+"-reset", reset)
	}
}

type waitResult int

const (
	waited waitResult = iota
	clientGone
	fakeClosing
)

func (f *FakeAPI) wait(ctx context.Context, d time.Duration) waitResult {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return waited
	case <-ctx.Done():
		return clientGone
	case <-f.closing:
		return fakeClosing
	}
}

// ServeHTTP answers one request from its scenario.
func (f *FakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Add under mu while not closing, so every Add happens before Close's Wait.
	f.mu.Lock()
	if f.isClosing() {
		f.mu.Unlock()
		return
	}
	f.handlers.Add(1)
	f.mu.Unlock()
	defer f.handlers.Done()
	ctx := r.Context()
	body, n, sum := readBody(r.Body)
	f.mu.Lock()
	f.seq++
	rec := &Request{
		Seq: f.seq, Method: r.Method, URI: r.RequestURI, Path: r.URL.Path, Host: r.Host,
		Header: r.Header.Clone(), Body: body, BodyLen: n, BodySHA: sum, Proto: r.Proto, TLS: r.TLS != nil,
		RequestID: fmt.Sprintf("req_011CFake%013d", f.seq),
	}
	f.reqs = append(f.reqs, rec)
	if f.recordLimit > 0 && len(f.reqs) > f.recordLimit {
		f.reqs = append([]*Request(nil), f.reqs[len(f.reqs)-f.recordLimit:]...)
	}
	gzipMode := f.gzip
	f.notifyLocked()
	f.mu.Unlock()

	scenario := r.Header.Get(ScenarioHeader)
	if scenario == "" {
		scenario = f.defaultScenario(r, body)
	}
	sp, err := parseScenario(scenario)
	if err != nil {
		sp, _ = parseScenario(ScenarioError + ";status=400")
	}
	if sp.gzip != nil {
		gzipMode = *sp.gzip
	}
	p := cachedPlan(scenario, sp, &reqInfo{method: r.Method, path: r.URL.Path, query: r.URL.Query(), body: body, size: n, sum: sum, requestID: rec.RequestID})
	if err != nil {
		p.steps = []step{{data: ErrorBody(400, "fake API: "+err.Error(), rec.RequestID)}}
	}
	useGzip := gzipMode == GzipAlways || gzipMode == GzipAccepted && acceptsGzip(r.Header)

	h := w.Header()
	h.Set("request-id", rec.RequestID)
	h.Set("anthropic-organization-id", OrganizationID)
	setRateLimitHeaders(h, p.status == http.StatusTooManyRequests)
	h.Set("Content-Type", p.contentType)
	for k, v := range p.header {
		h[k] = v
	}
	if p.stream {
		h.Set("Cache-Control", "no-cache")
	}
	if useGzip {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	} else if !p.stream {
		h.Set("Content-Length", strconv.Itoa(p.size()))
	}

	f.update(rec, func(r *Request) { r.Scenario = scenario })
	finish := func(cancelled bool) {
		f.update(rec, func(r *Request) { r.Done, r.Cancelled = true, cancelled })
	}
	if sp.delay > 0 {
		if res := f.wait(ctx, sp.delay); res != waited {
			finish(res == clientGone)
			return
		}
	}
	f.update(rec, func(r *Request) { r.Status, r.Gzip = p.status, useGzip })
	w.WriteHeader(p.status)
	rc := http.NewResponseController(w)
	var out io.Writer = w
	var zw *gzip.Writer
	if useGzip {
		zw = gzip.NewWriter(w)
		out = zw
	}
	for _, s := range p.steps {
		if s.gap > 0 {
			if res := f.wait(ctx, s.gap); res != waited {
				finish(res == clientGone)
				return
			}
		}
		_, err := out.Write(s.data)
		if err == nil && zw != nil {
			err = zw.Flush()
		}
		if err == nil && p.stream {
			err = rc.Flush()
		}
		if err != nil {
			// The fake never breaks its own connections mid-response
			// except when closing, so a failed write means the client left.
			finish(!f.isClosing())
			return
		}
	}
	if p.cut {
		rc.Flush()
		finish(false)
		// Drops the connection (HTTP/1.1) or resets the stream (HTTP/2)
		// without the body's terminator: what a dying upstream looks like.
		panic(http.ErrAbortHandler)
	}
	if zw != nil {
		zw.Close()
	}
	finish(false)
}

package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// TestPipelineOrder: stages run in phase order whatever order they are
// listed in, the key is computed once between the filters and the rest
// over the body as it will be forwarded, and a deferred refusal is
// dropped when a later stage answers.
func TestPipelineOrder(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	var (
		mu   sync.Mutex
		seen []string
	)
	log := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }
	stage := func(ph Phase, name string, run func(out *Outgoing) (*Response, error)) Stage {
		return Stage{Phase: ph, Name: name, Run: func(_ context.Context, out *Outgoing) (*Response, error) {
			log(name + ":" + out.Key)
			return run(out)
		}}
	}
	pass := func(*Outgoing) (*Response, error) { return nil, nil }
	h := newHarness(t, fake.URL, func(o *Options) {
		o.Key = func(out *Outgoing) string { return "K(" + string(out.Body) + ")" }
		o.Stages = []Stage{
			stage(PhaseQueue, "queue", pass),
			stage(PhaseCache, "cache", func(out *Outgoing) (*Response, error) {
				if strings.Contains(string(out.Body), "hit") {
					return &Response{Header: http.Header{"Content-Type": {"application/json"}},
						Body: io.NopCloser(strings.NewReader(`{"cached":true}`)), CacheHit: true}, nil
				}
				return nil, nil
			}),
			stage(PhaseBudget, "budget", func(out *Outgoing) (*Response, error) {
				out.Refuse(&Error{Status: 400, Type: TypeInvalidRequest, Class: storage.ClassFerry, Message: "daily budget spent"})
				return nil, nil
			}),
			stage(PhaseFilter, "filter", func(out *Outgoing) (*Response, error) {
				out.Body = []byte(strings.ReplaceAll(string(out.Body), "secret", "[F]"))
				return nil, nil
			}),
			stage(PhaseRateLimit, "ratelimit", pass),
		}
	})
	res, body := h.do(t, "POST", "/v1/messages", []byte(`{"hit":"secret"}`), keyHeader(testToken))
	h.rec.next(t)
	if res.StatusCode != 200 || string(body) != `{"cached":true}` {
		t.Fatalf("cache hit under a spent budget: %d %s", res.StatusCode, body)
	}
	want := []string{"filter:", `budget:K({"hit":"[F]"})`, `cache:K({"hit":"[F]"})`}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("order %q, want %q", seen, want)
	}
	seen = nil
	res, body = h.do(t, "POST", "/v1/messages", []byte(`{"miss":1}`), keyHeader(testToken))
	rec := h.rec.next(t)
	if res.StatusCode != 400 || !strings.Contains(string(body), "daily budget spent") || rec.Status != 400 {
		t.Errorf("miss under a spent budget: %d %s", res.StatusCode, body)
	}
	if len(seen) != 3 || len(fake.Requests()) != 0 {
		t.Errorf("after the refusal: stages %q, %d upstream requests", seen, len(fake.Requests()))
	}
}

// TestResponseHooks: hooks see the upstream's headers before the client
// does, run filters before the cache fill whatever the order registered,
// may replace the body, and their annotations land in the record.
func TestResponseHooks(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	var order []string
	var teed strings.Builder
	h := newHarness(t, fake.URL, func(o *Options) {
		o.Stages = []Stage{{Phase: PhaseCache, Name: "cache", Run: func(_ context.Context, out *Outgoing) (*Response, error) {
			out.OnResponse(RespCacheFill, func(res *Response) error {
				order = append(order, "fill")
				res.Body = teeBody{io.TeeReader(res.Body, &teed), res.Body}
				return nil
			})
			out.Annotate(func(rec *storage.Record) { rec.CacheHit = false; rec.PriceRow = "annotated" })
			return nil, nil
		}}, {Phase: PhaseFilter, Name: "filter", Run: func(_ context.Context, out *Outgoing) (*Response, error) {
			out.OnResponse(RespFilter, func(res *Response) error {
				order = append(order, "filter")
				if res.Upstream == nil || res.Status != 200 {
					t.Errorf("hook saw %+v", res)
				}
				res.Header.Set("X-Seen", "1")
				res.Header.Del("Content-Length")
				res.Body = teeBody{strings.NewReader("replaced"), res.Body}
				return nil
			})
			return nil, nil
		}}}
	})
	hdr := keyHeader(testToken)
	hdr.Set(testsupport.ScenarioHeader, testsupport.ScenarioCountTokens)
	res, body := h.do(t, "POST", "/v1/messages/count_tokens", []byte(`{"model":"m"}`), hdr)
	rec := h.rec.next(t)
	if string(body) != "replaced" || teed.String() != "replaced" || res.Header.Get("X-Seen") != "1" {
		t.Errorf("body %q teed %q header %v", body, teed.String(), res.Header)
	}
	if strings.Join(order, ",") != "filter,fill" {
		t.Errorf("hook order %v", order)
	}
	if rec.PriceRow != "annotated" {
		t.Errorf("annotation not applied: %+v", rec)
	}
}

type teeBody struct {
	io.Reader
	c io.Closer
}

func (b teeBody) Close() error { return b.c.Close() }

// TestFerryHeadersNeverGoUpstream: every x-ferry-* request header stays
// with Ferry (an x-ferry-admin-token sent on an API path used to reach
// the upstream).
func TestFerryHeadersNeverGoUpstream(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, nil)
	hdr := keyHeader(clientKey)
	hdr.Set("X-Ferry-Admin-Token", "admin-secret")
	hdr.Set("x-ferry-cache", "bypass")
	hdr.Set("X-Ferry-Token", "whatever")
	hdr.Set(testsupport.ScenarioHeader, testsupport.ScenarioCountTokens)
	if res, _ := h.do(t, "POST", "/v1/messages/count_tokens", []byte(`{}`), hdr); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	h.rec.next(t)
	for k := range fake.Last().Header {
		if strings.HasPrefix(strings.ToLower(k), "x-ferry-") {
			t.Errorf("%s reached the upstream", k)
		}
	}
}

// countingChooser offers its routes in order and keeps the reports.
type countingChooser struct {
	ups     []*route.Upstream
	mu      sync.Mutex
	reports []route.Outcome
}

func (c *countingChooser) Candidates(route.Request) ([]*route.Upstream, error) { return c.ups, nil }
func (c *countingChooser) Report(_ route.Request, _ *route.Upstream, o route.Outcome) {
	c.mu.Lock()
	c.reports = append(c.reports, o)
	c.mu.Unlock()
}

type policyFunc func(out *Outgoing, n int, last AttemptResult, since time.Duration) RetryDecision

func (f policyFunc) Decide(out *Outgoing, n int, last AttemptResult, since time.Duration) RetryDecision {
	return f(out, n, last, since)
}

// TestAttemptsFailOver: a road failure on the first candidate (its SOCKS
// proxy refuses connections) is followed by an attempt on the next; the
// chooser hears both; the client sees only the answer.
func TestAttemptsFailOver(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	dead, err := route.NewUpstream(route.Route{Name: "dead", URL: "socks5://127.0.0.1:1"}, route.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := route.NewUpstream(route.Route{Name: "Direct", URL: route.DirectURL}, route.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch := &countingChooser{ups: []*route.Upstream{dead, direct}}
	var decided []AttemptResult
	h := newHarness(t, fake.URL, func(o *Options) {
		o.Routes = ch
		o.Retry = policyFunc(func(_ *Outgoing, n int, last AttemptResult, _ time.Duration) RetryDecision {
			decided = append(decided, last)
			return RetryDecision{Again: n < 3, Failover: last.Class != ClassStatus}
		})
	})
	hdr := keyHeader(clientKey)
	hdr.Set(testsupport.ScenarioHeader, testsupport.ScenarioCountTokens)
	hdr.Set("X-Claude-Code-Session-Id", "sess-1")
	res, _ := h.do(t, "POST", "/v1/messages/count_tokens", []byte(`{}`), hdr)
	rec := h.rec.next(t)
	if res.StatusCode != 200 || rec.Route != "Direct" {
		t.Fatalf("status %d route %q", res.StatusCode, rec.Route)
	}
	if len(rec.Attempts) != 2 || rec.Attempts[0].Route != "dead" || rec.Attempts[0].Class != ClassConnect ||
		rec.Attempts[1].Route != "Direct" || rec.Attempts[1].Class != "" || rec.Attempts[1].Status != 200 {
		t.Errorf("record attempts %+v", rec.Attempts)
	}
	if rec.Session != "sess-1" {
		t.Errorf("record session %q", rec.Session)
	}
	if len(decided) != 1 || decided[0].Class != ClassConnect || decided[0].Sent || decided[0].Route != "dead" {
		t.Errorf("policy asked about %+v", decided)
	}
	if len(ch.reports) != 2 || ch.reports[0].Class != ClassConnect || ch.reports[1].Class != "" || ch.reports[1].Status != 200 {
		t.Errorf("reports %+v", ch.reports)
	}

	// A retryable status is retried on the same route when the policy
	// says so, and the last answer is relayed when it gives up.
	decided = nil
	hdr.Set(testsupport.ScenarioHeader, testsupport.ScenarioOverloaded)
	ch.ups = []*route.Upstream{direct}
	res, body := h.do(t, "POST", "/v1/messages", []byte(`{}`), hdr)
	h.rec.next(t)
	if res.StatusCode != 529 || !strings.Contains(string(body), "overloaded_error") {
		t.Errorf("overloaded: %d %s", res.StatusCode, body)
	}
	if len(decided) != 3 || decided[0].Class != ClassStatus || decided[0].Status != 529 {
		t.Errorf("policy asked %d times: %+v", len(decided), decided)
	}
	if n := len(fake.Requests()); n != 1+3 {
		t.Errorf("%d upstream requests, want 4", n)
	}
}

// TestDetachedAttempt: an attempt detached from the client (coalescing)
// runs under the context the stage gave, not the client's.
func TestDetachedAttempt(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	type ctxKey struct{}
	direct, err := route.NewUpstream(route.Route{Name: "Direct", URL: route.DirectURL}, route.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dial := direct.Transport.DialContext
	var dialedUnder atomic.Value
	direct.Transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialedUnder.Store(fmt.Sprint(ctx.Value(ctxKey{})))
		return dial(ctx, network, addr)
	}
	h := newHarness(t, fake.URL, func(o *Options) {
		o.Routes = route.NewFixed(direct)
		o.Stages = []Stage{{Phase: PhaseCache, Name: "cache", Run: func(ctx context.Context, out *Outgoing) (*Response, error) {
			out.Detach(context.WithValue(context.WithoutCancel(ctx), ctxKey{}, "group"))
			return nil, nil
		}}}
	})
	hdr := keyHeader(clientKey)
	hdr.Set(testsupport.ScenarioHeader, testsupport.ScenarioCountTokens)
	if res, _ := h.do(t, "POST", "/v1/messages/count_tokens", []byte(`{}`), hdr); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	h.rec.next(t)
	if got := dialedUnder.Load(); got != "group" {
		t.Errorf("attempt dialled under %v, want the detached context", got)
	}
}

// TestHeldKeyNeverEchoed: an upstream (a relay) that echoes the key in a
// header and in a gzipped body does not hand it to a client that sent
// the local token; a client that sent its own key gets the bytes as sent.
func TestHeldKeyNeverEchoed(t *testing.T) {
	t.Parallel()
	var offered []string
	var mu sync.Mutex
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		offered = append(offered, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		key := r.Header.Get("X-Api-Key")
		w.Header().Set("X-Echo", "key="+key)
		w.Header().Set("Content-Type", "application/json")
		body := `{"type":"error","error":{"type":"authentication_error","message":"bad key ` + key + `"}}`
		// A hostile relay gzips whatever it was offered.
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, body)
		zw.Close()
	}))
	defer echo.Close()
	h := newHarness(t, echo.URL, nil)
	hdr := keyHeader(testToken)
	hdr.Set("Accept-Encoding", "gzip")
	res, body := h.do(t, "POST", "/v1/messages", []byte(`{}`), hdr)
	h.rec.next(t)
	if strings.Contains(res.Header.Get("X-Echo"), testKey) || strings.Contains(string(body), testKey) {
		t.Errorf("the held key reached a token client: %v %s", res.Header, body)
	}
	if !strings.Contains(string(body), "bad key [key-removed") || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("body %q encoding %q", body, res.Header.Get("Content-Encoding"))
	}
	res, body = h.do(t, "POST", "/v1/messages", []byte(`{}`), keyHeader(clientKey))
	h.rec.next(t)
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("own-key client: %v", err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), clientKey) || !strings.Contains(res.Header.Get("X-Echo"), clientKey) {
		t.Errorf("a client's own key was changed: %s", plain)
	}
	if len(offered) != 2 || offered[0] != "identity" {
		t.Errorf("offered %q", offered)
	}
}

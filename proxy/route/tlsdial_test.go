package route

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// roundTrip sends a GET through u.RoundTrip and reads the whole body.
func roundTrip(t *testing.T, u *Upstream, target string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := u.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, string(b), err
}

// managedUpstream is a Manager with one route through microsocks to
// target, and that route's Upstream.
func managedUpstream(t *testing.T, st *mapSettings, api *fakeAPI, r Route) (*Manager, *Upstream) {
	t.Helper()
	if err := st.PutSetting(SettingRoutes, []Route{r}); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(ManagerOptions{Settings: st, Dial: DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second}, Target: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	return m, m.upstream(r.Name)
}

// A path that resets ClientHellos offering X25519MLKEM768: in auto every
// request still succeeds (classic shares at once, within the attempt);
// after two such resets the route remembers classic, persisted, and stops
// paying the reset. pq fails there; classic never meets a reset.
func TestKeySharePQResetFallback(t *testing.T) {
	api := startFakeAPI(t)
	socks := testsupport.StartMicrosocks(t, "", "")
	relay := testsupport.StartPQResetter(t, api.URL.Host)
	target := "https://" + relay.Addr + "/v1/models"
	st := &mapSettings{}
	m, u := managedUpstream(t, st, api, Route{Name: "Abroad", URL: "socks5://" + socks.Addr})

	for i := 1; i <= 2; i++ {
		res, _, err := roundTrip(t, u, target)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if res.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, res.StatusCode)
		}
		if got := relay.Resets(); got != int64(i) {
			t.Fatalf("after request %d: %d resets, want %d", i, got, i)
		}
		u.Transport.CloseIdleConnections() // the next request handshakes anew
	}
	l := status(m, "Abroad").Learnt
	if l.ClassicSince.IsZero() {
		t.Fatalf("no classic learnt after 2 resets: %+v", l)
	}
	var stored map[string]Learnt
	if found, _ := st.GetSetting(SettingLearnt, &stored); !found || stored["Abroad"].ClassicSince.IsZero() {
		t.Fatalf("classic not persisted: %v", stored)
	}
	// Learnt: the third handshake offers classic at once.
	if _, _, err := roundTrip(t, u, target); err != nil {
		t.Fatal(err)
	}
	if relay.Resets() != 2 {
		t.Fatalf("a learnt route still offered post-quantum: %d resets", relay.Resets())
	}
	// A second run starts with what was learnt.
	m2, err := NewManager(ManagerOptions{Settings: st, Dial: DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second}, Target: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := roundTrip(t, m2.upstream("Abroad"), target); err != nil || relay.Resets() != 2 {
		t.Fatalf("second run: err %v, resets %d", err, relay.Resets())
	}
	// Forget: post-quantum again (and reset again, cured again).
	if err := m.Forget("Abroad"); err != nil {
		t.Fatal(err)
	}
	if l := status(m, "Abroad").Learnt; !l.zero() {
		t.Fatalf("forget left %+v", l)
	}
	stored = nil
	if found, _ := st.GetSetting(SettingLearnt, &stored); found && !stored["Abroad"].ClassicSince.IsZero() {
		t.Fatalf("forget not persisted: %v", stored)
	}
	if _, _, err := roundTrip(t, u, target); err != nil || relay.Resets() != 3 {
		t.Fatalf("after forget: err %v, resets %d (want a post-quantum try)", err, relay.Resets())
	}

	// tls_key_share=pq: no fallback, the reset is the answer.
	if err := m.Set("Abroad", FieldKeyShare, KeySharePQ); err != nil {
		t.Fatal(err)
	}
	_, _, err = roundTrip(t, m.upstream("Abroad"), target)
	var te *TLSError
	if err == nil || !asTLSError(err, &te) || !te.PQ {
		t.Fatalf("pq through a PQ-resetting path: %v", err)
	}
	// tls_key_share=classic: never offers it.
	if err := m.Set("Abroad", FieldKeyShare, KeyShareClassic); err != nil {
		t.Fatal(err)
	}
	before := relay.Resets()
	if _, _, err := roundTrip(t, m.upstream("Abroad"), target); err != nil || relay.Resets() != before {
		t.Fatalf("classic: err %v, resets %d → %d", err, before, relay.Resets())
	}
	if err := m.Set("Abroad", FieldKeyShare, "kyber"); err == nil || !strings.Contains(err.Error(), "want auto, classic or pq") {
		t.Fatalf("bad key share value: %v", err)
	}
}

// Two PQ resets only count in a row: a post-quantum success between them
// starts over.
func TestKeyShareResetsInARow(t *testing.T) {
	x := newLearner()
	x.pqReset()
	x.pqOK()
	if x.pqReset() {
		t.Fatal("learnt classic from resets that were not in a row")
	}
	if !x.pqReset() {
		t.Fatal("two resets in a row did not teach classic")
	}
	now := time.Now()
	x.now = func() time.Time { return now.Add(ClassicFor + time.Minute) }
	if x.classic() {
		t.Fatal("classic still in force after ClassicFor: post-quantum must be tried again")
	}
}

// A proxy path that breaks HTTP/2 streams with PROTOCOL_ERROR: after two,
// a route in http=auto speaks HTTP/1.1, remembers it, and works.
func TestHTTP1FallbackAfterProtocolErrors(t *testing.T) {
	api := startFakeAPI(t)
	socks := testsupport.StartMicrosocks(t, "", "")
	h2 := testsupport.StartH2Resetter(t, api.certificate(t))
	target := "https://" + h2.Addr + "/v1/messages"
	st := &mapSettings{}
	m, u := managedUpstream(t, st, api, Route{Name: "Tunnel", URL: "socks5://" + socks.Addr})

	for i := 1; i <= 2; i++ {
		_, _, err := roundTrip(t, u, target)
		if err == nil || !strings.Contains(err.Error(), "PROTOCOL_ERROR") {
			t.Fatalf("request %d over HTTP/2: %v, want a PROTOCOL_ERROR", i, err)
		}
	}
	if !status(m, "Tunnel").Learnt.HTTP1 {
		t.Fatal("HTTP/1.1 not learnt after two protocol errors")
	}
	res, body, err := roundTrip(t, u, target)
	if err != nil || res.ProtoMajor != 1 || !strings.Contains(body, "message_stop") {
		t.Fatalf("after the fallback: err %v, proto %v, body %.60q", err, res, body)
	}
	if h2.H2Streams() != 2 || h2.HTTP1() != 1 {
		t.Fatalf("endpoint saw %d HTTP/2 streams and %d HTTP/1.1 requests", h2.H2Streams(), h2.HTTP1())
	}
	var stored map[string]Learnt
	if found, _ := st.GetSetting(SettingLearnt, &stored); !found || !stored["Tunnel"].HTTP1 {
		t.Fatalf("HTTP/1.1 not persisted: %v", stored)
	}
	// http=2 by hand: the user insists, nothing is learnt over it.
	if err := m.Set("Tunnel", FieldHTTP, "2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := roundTrip(t, m.upstream("Tunnel"), target); err == nil {
		t.Fatal("http=2 did not use HTTP/2")
	}
	if err := m.Set("Tunnel", FieldHTTP, "3"); err == nil {
		t.Fatal("http=3 accepted")
	}
}

// The bounded HTTP/1.1 pool: 16 connections at most.
func TestHTTP1PoolBounded(t *testing.T) {
	u, err := NewUpstream(Route{Name: "x", URL: "direct", HTTP: HTTP1}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u.Transport.MaxConnsPerHost != 16 || !slicesEqual(u.nextProtos(), []string{"http/1.1"}) {
		t.Fatalf("pool %d, ALPN %v", u.Transport.MaxConnsPerHost, u.nextProtos())
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func asTLSError(err error, te **TLSError) bool {
	for e := err; e != nil; {
		if x, ok := e.(*TLSError); ok {
			*te = x
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

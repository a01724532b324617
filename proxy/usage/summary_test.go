package usage_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/proxy/usage"
	"github.com/ferry-gateway/ferry/storage"
)

// plainObserver hides the Meter's SummaryReader side, so the meter holds
// and scans the stream itself, as it does for any stream the proxy does
// not scan.
type plainObserver struct{ m *usage.Meter }

func (o plainObserver) Response(status int, h http.Header) { o.m.Response(status, h) }
func (o plainObserver) Write(p []byte) (int, error)        { return o.m.Write(p) }
func (o plainObserver) Done(rec *storage.Record)           { o.m.Done(rec) }

// TestSummaryMatchesOwnScan: the usage a meter reads from the proxy's
// scan of a stream (sse.Summary) is the usage it reads by scanning the
// stream itself, for every stream scenario of the fake, cut ones
// included. Rates are not compared: how the network groups frames into
// reads differs between the two runs (a stream read in one piece has no
// rate either way).
func TestSummaryMatchesOwnScan(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	base, _ := url.Parse(fake.URL)
	run := func(wrap bool) []storage.Record {
		rec := &memRecorder{}
		meters := usage.NewMeters(usage.MetersOptions{})
		used := 0
		p, err := proxy.New(proxy.Options{
			APIBase:  base,
			Recorder: rec,
			Logger:   slog.New(slog.DiscardHandler),
			Observe: func(r *http.Request, body []byte, start time.Time) proxy.Observer {
				m := meters.NewObserver(r, body, start)
				if wrap {
					return plainObserver{m}
				}
				used++
				return m
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(p)
		defer srv.Close()
		n := 0
		for _, sc := range []string{
			testsupport.ScenarioStream, testsupport.ScenarioToolUse, testsupport.ScenarioThinking,
			testsupport.ScenarioUTF8Split, testsupport.ScenarioUnknownEvent, testsupport.ScenarioStreamError,
			testsupport.ScenarioCutAfterStart, testsupport.ScenarioCutMidStream, testsupport.ScenarioLarge,
		} {
			body := `{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/messages", strings.NewReader(body))
			req.Header.Set("x-api-key", "sk-ant-test")
			req.Header.Set(testsupport.ScenarioHeader, sc)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			n++
			rec.last(t, n)
		}
		if !wrap && used != n {
			t.Fatalf("%d meters for %d requests", used, n)
		}
		return rec.recs
	}
	own, shared := run(true), run(false)
	for i := range own {
		a, b := own[i], shared[i]
		if a.Tokens != b.Tokens || a.Model != b.Model || a.CostUSD != b.CostUSD || a.PriceKnown != b.PriceKnown ||
			a.PriceRow != b.PriceRow || a.ErrorType != b.ErrorType || a.ErrorClass != b.ErrorClass ||
			a.ServiceTier != b.ServiceTier || a.Status != b.Status || a.BytesOut != b.BytesOut ||
			(a.FirstToken > 0) != (b.FirstToken > 0) {
			t.Errorf("request %d:\nown scan %+v\nsummary  %+v", i, a, b)
		}
	}
}

// TestUseSummaryOnlyForPlainStreams: a meter takes the proxy's scan only
// for a plain event stream; JSON, gzip and OpenAI streams it reads itself.
func TestUseSummaryOnlyForPlainStreams(t *testing.T) {
	meters := usage.NewMeters(usage.MetersOptions{})
	for _, c := range []struct {
		path, ctype, enc string
		want             bool
	}{
		{"/v1/messages", "text/event-stream", "", true},
		{"/v1/messages", "text/event-stream", "gzip", false},
		{"/v1/messages", "application/json", "", false},
		{"/v1/chat/completions", "text/event-stream", "", false},
	} {
		r := httptest.NewRequest(http.MethodPost, c.path, nil)
		m := meters.NewObserver(r, nil, time.Now())
		m.Response(200, http.Header{"Content-Type": {c.ctype}, "Content-Encoding": {c.enc}})
		if _, got := m.UseSummary(); got != c.want {
			t.Errorf("%s %s %q: UseSummary %v", c.path, c.ctype, c.enc, got)
		}
	}
}

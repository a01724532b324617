package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// TestManyStreamsNoneCut is the regression test for golang/go#40747: over
// HTTP/1.1 with keep-alive, a bare ReverseProxy cut 0.2–2 % of SSE streams
// because the server closed the request body once the handler started
// writing. 3000 streams, 48 at a time, each with a request body: none may be
// cut or differ by a byte.
func TestManyStreamsNoneCut(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	// Not parallel: it would starve the timing-sensitive idle-timeout
	// tests on a 2-core machine.
	const (
		streams     = 3000
		concurrency = 48
		sc          = testsupport.ScenarioToolUse
	)
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, func(o *Options) { o.Observe = nil })
	want := fake.ExpectedBody(sc)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: concurrency, ForceAttemptHTTP2: false}}
	defer client.CloseIdleConnections()
	body := `{"model":"claude-sonnet-4-5","stream":true,"max_tokens":1024,"messages":[{"role":"user","content":"` + strings.Repeat("lorem ipsum ", 400) + `"}]}`

	var (
		bad   atomic.Int64
		next  atomic.Int64
		wg    sync.WaitGroup
		first sync.Once
		msg   string
	)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= streams {
				req, _ := http.NewRequest("POST", h.url+"/v1/messages?beta=true", strings.NewReader(body))
				req.Header.Set("X-Api-Key", clientKey)
				req.Header.Set(testsupport.ScenarioHeader, sc)
				res, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					first.Do(func() { msg = err.Error() })
					continue
				}
				got, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || !bytes.Equal(got, want) {
					bad.Add(1)
					first.Do(func() {
						msg = fmt.Sprintf("status %d, %d of %d bytes, err %v", res.StatusCode, len(got), len(want), err)
					})
				}
			}
		}()
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d of %d streams cut or changed; first: %s", n, streams, msg)
	}
	h.p.books.Wait() // records are written once each handler has returned
	if n := len(h.rec.all()); n != streams {
		t.Errorf("%d records for %d streams", n, streams)
	}
	for _, rec := range h.rec.all() {
		if rec.Status != 200 || rec.ErrorClass != "" {
			t.Fatalf("record %+v", rec)
		}
	}
}

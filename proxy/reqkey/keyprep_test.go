package reqkey

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// A key computed ahead of the request filters (KeyPrep) stands only when
// the filters changed none of its inputs: a redacted body, or a filter
// set that changed between the two (the stage records the version it
// used), gives the key of the request as it is forwarded. Every key is
// the one Key computes from the forwarded request.
func TestKeyAheadOnlyWhenInputsHold(t *testing.T) {
	k, err := New([]byte("per-install-secret-for-keyprep-test"))
	if err != nil {
		t.Fatal(err)
	}
	version := proxy.NewStateKey("test filter version")
	fv := func(out *proxy.Outgoing) string {
		if v, ok := out.Value(version).(string); ok {
			return v
		}
		return "v1" // the set in force now
	}
	var mu sync.Mutex
	var got []string
	var forwarded []Request
	fake := testsupport.NewFakeAPI(t)
	base, _ := url.Parse(fake.URL)
	p, err := proxy.New(proxy.Options{APIBase: base, Logger: slog.New(slog.DiscardHandler),
		Key: k.KeyFunc(fv), KeyPrep: k.KeyPrep(fv),
		Stages: []proxy.Stage{
			{Phase: proxy.PhaseFilter, Name: "filter", Run: func(_ context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
				out.Set(version, "v1")
				if bytes.Contains(out.Body, []byte("bump")) {
					out.Set(version, "v2") // a list changed just before this stage read the set
				}
				if bytes.Contains(out.Body, []byte("secret-word")) {
					out.Body = bytes.ReplaceAll(out.Body, []byte("secret-word"), []byte("[REDACTED]"))
				}
				return nil, nil
			}},
			{Phase: proxy.PhaseCache, Name: "reader", Run: func(_ context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
				mu.Lock()
				got = append(got, out.Key)
				forwarded = append(forwarded, request(out, fv))
				mu.Unlock()
				return nil, nil
			}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	for _, words := range []string{"hello", "bump", "my secret-word", "bump secret-word"} {
		body := `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"` + words + strings.Repeat(" pad", 10<<10) + `"}]}`
		req, _ := http.NewRequest("POST", srv.URL+"/v1/messages", strings.NewReader(body))
		req.Header.Set("X-Api-Key", "sk-ant-api03-keyprep-test")
		req.Header.Set("Anthropic-Version", "2023-06-01")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		mu.Lock()
		i := len(got) - 1
		if want := k.Key(forwarded[i]); got[i] != want {
			t.Errorf("%q: key %s, want the forwarded request's %s", words, got[i], want)
		}
		mu.Unlock()
	}
	if len(got) != 4 {
		t.Fatalf("%d requests keyed", len(got))
	}
}

func TestAheadMatches(t *testing.T) {
	r := Request{Method: "POST", Path: "/v1/messages", Version: "2023-06-01", Betas: []string{"a,b"}, FilterVersion: "v1", Credential: "k"}
	a := &ahead{r: r}
	for name, change := range map[string]func(*Request){
		"filter version": func(r *Request) { r.FilterVersion = "v2" },
		"credential":     func(r *Request) { r.Credential = "other" },
		"betas":          func(r *Request) { r.Betas = []string{"a"} },
		"version":        func(r *Request) { r.Version = "2024-01-01" },
		"query":          func(r *Request) { r.RawQuery = "beta=true" },
	} {
		r2 := r
		change(&r2)
		if a.matches(r2) {
			t.Errorf("matches with another %s", name)
		}
	}
	if !a.matches(r) {
		t.Error("no match with the same inputs")
	}
}

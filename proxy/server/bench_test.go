package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/server"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// BenchmarkRecording compares a request through Ferry with usage recording
// on (the whole server: meter on the response, a record per request into a
// real bbolt file, rollups, metrics) and off (the same proxy handler without
// observer or recorder). The issue asks that the two be within noise.
//
//	CGO_ENABLED=0 go test ./proxy/server -run '^$' -bench Recording -count 6 | benchstat -
func BenchmarkRecording(b *testing.B) {
	fake := testsupport.NewFakeAPI(b, testsupport.WithRecordLimit(16))
	quiet := slog.New(slog.DiscardHandler)

	base, _ := url.Parse(fake.URL)
	bare, err := proxy.New(proxy.Options{APIBase: base, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	off := httptest.NewServer(bare)
	b.Cleanup(off.Close)

	srv, err := server.Open(server.Config{
		Listen: "127.0.0.1:0", APIBase: fake.URL, DataDir: b.TempDir(), Via: "direct", Logger: quiet,
		Getenv: func(k string) string {
			if k == "FERRY_KEYRING" {
				return "off"
			}
			return ""
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Stop(context.Background()) })

	for _, sc := range []struct{ name, scenario, body string }{
		{"message", testsupport.ScenarioMessage, `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`},
		{"stream", testsupport.ScenarioStream, `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		for _, tg := range []struct{ name, url string }{{"off", off.URL}, {"on", srv.BaseURL()}} {
			b.Run(sc.name+"/recording="+tg.name, func(b *testing.B) {
				c := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}}
				defer c.CloseIdleConnections()
				for b.Loop() {
					req, _ := http.NewRequest("POST", tg.url+"/v1/messages", strings.NewReader(sc.body))
					req.Header.Set("x-api-key", "sk-ant-bench")
					req.Header.Set(testsupport.ScenarioHeader, sc.scenario)
					res, err := c.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, res.Body); err != nil {
						b.Fatal(err)
					}
					res.Body.Close()
				}
			})
		}
	}
}

package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ferry-gateway/ferry/proxy/cache"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/proxy/usage"
)

// sdkRealKey is what the SDK (or Ferry, in local-token mode) sends upstream.
const sdkRealKey = "sk-ant-api03-sdktest-0000000000000000000000000000"

// sdkStartFerry runs a real Ferry on a free loopback port in front of the
// fake; caFile is the fake's CA when it speaks TLS.
func sdkStartFerry(t *testing.T, fake *testsupport.FakeAPI, caFile string) *app.Server {
	t.Helper()
	// These tests count the upstream calls of identical requests, which
	// the dedup cache would answer (it has its own tests).
	return ferryOn(t, fake, caFile, t.TempDir(), app.Override{Key: cache.KeyEnabled, Text: "off", From: "test"})
}

// ferryOn runs a real Ferry on dataDir with the given overrides.
func ferryOn(t *testing.T, fake *testsupport.FakeAPI, caFile, dataDir string, overrides ...app.Override) *app.Server {
	t.Helper()
	srv, err := app.Open(app.Config{
		Listen:    "127.0.0.1:0",
		APIBase:   fake.URL,
		DataDir:   dataDir,
		CAFile:    caFile,
		Version:   "sdktest",
		Logger:    slog.New(slog.DiscardHandler),
		Overrides: overrides,
		Getenv: func(k string) string {
			if k == "FERRY_KEYRING" {
				return "off"
			}
			return ""
		},
	})
	if err != nil {
		t.Fatalf("open ferry: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start ferry: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop ferry: %v", err)
		}
	})
	return srv
}

// sdkLoopbackClient talks to Ferry on loopback and never to a proxy from
// the environment.
func sdkLoopbackClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
}

func sdkClient(baseURL, key string, hc *http.Client) anthropic.Client {
	return anthropic.NewClient(
		option.WithBaseURL(baseURL),
		option.WithHTTPClient(hc),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(30*time.Second),
	)
}

// sdkResult is what one client got back from the four calls.
type sdkResult struct {
	Message  *anthropic.Message
	Streamed anthropic.Message
	Events   []string
	Count    int64
	Models   []string
}

var sdkParams = anthropic.MessageNewParams{
	Model:     anthropic.Model(testsupport.DefaultModel),
	MaxTokens: 1024,
	Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Say hello in Chinese and English."))},
}

func sdkRun(t *testing.T, c anthropic.Client) sdkResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res sdkResult
	var err error
	if res.Message, err = c.Messages.New(ctx, sdkParams); err != nil {
		t.Fatalf("Messages.New: %v", err)
	}
	stream := c.Messages.NewStreaming(ctx, sdkParams)
	for stream.Next() {
		ev := stream.Current()
		res.Events = append(res.Events, ev.Type)
		if err := res.Streamed.Accumulate(ev); err != nil {
			t.Fatalf("accumulate: %v", err)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("Messages.NewStreaming: %v", err)
	}
	if err := stream.Close(); err != nil {
		t.Fatalf("close stream: %v", err)
	}
	n, err := c.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{
		Model:    sdkParams.Model,
		Messages: sdkParams.Messages,
	})
	if err != nil {
		t.Fatalf("CountTokens: %v", err)
	}
	res.Count = n.InputTokens
	page, err := c.Models.List(ctx, anthropic.ModelListParams{Limit: anthropic.Int(2)})
	if err != nil {
		t.Fatalf("Models.List: %v", err)
	}
	for _, m := range page.Data {
		res.Models = append(res.Models, m.ID)
	}
	if len(res.Models) == 0 {
		t.Fatal("Models.List returned no models")
	}
	return res
}

// sdkMessageView is the part of a message that must be the same both ways.
type sdkMessageView struct {
	ID         string
	Model      string
	StopReason string
	Content    string
	Usage      string
}

func sdkView(t *testing.T, m *anthropic.Message) sdkMessageView {
	t.Helper()
	content, err := json.Marshal(m.Content)
	if err != nil {
		t.Fatalf("marshal content: %v", err)
	}
	u := m.Usage
	return sdkMessageView{
		ID: m.ID, Model: string(m.Model), StopReason: string(m.StopReason), Content: string(content),
		Usage: fmt.Sprintf("in=%d out=%d cache_write=%d (5m=%d 1h=%d) cache_read=%d tier=%s",
			u.InputTokens, u.OutputTokens, u.CacheCreationInputTokens,
			u.CacheCreation.Ephemeral5mInputTokens, u.CacheCreation.Ephemeral1hInputTokens,
			u.CacheReadInputTokens, u.ServiceTier),
	}
}

func sdkCompare(t *testing.T, direct, viaFerry sdkResult) {
	t.Helper()
	if d, f := sdkView(t, direct.Message), sdkView(t, viaFerry.Message); d != f {
		t.Errorf("non-streaming message differs:\ndirect %+v\nferry  %+v", d, f)
	}
	if d, f := direct.Message.RawJSON(), viaFerry.Message.RawJSON(); d != f {
		t.Errorf("non-streaming raw JSON differs:\ndirect %s\nferry  %s", d, f)
	}
	if d, f := sdkView(t, &direct.Streamed), sdkView(t, &viaFerry.Streamed); d != f {
		t.Errorf("streamed message differs:\ndirect %+v\nferry  %+v", d, f)
	}
	if !reflect.DeepEqual(direct.Events, viaFerry.Events) {
		t.Errorf("stream events differ:\ndirect %v\nferry  %v", direct.Events, viaFerry.Events)
	}
	if direct.Count != viaFerry.Count {
		t.Errorf("count_tokens: direct %d, ferry %d", direct.Count, viaFerry.Count)
	}
	if !reflect.DeepEqual(direct.Models, viaFerry.Models) {
		t.Errorf("models: direct %v, ferry %v", direct.Models, viaFerry.Models)
	}
}

// sdkCheckFake checks the fake's canned answers reached the SDK intact, so
// that "same both ways" cannot mean "equally broken".
func sdkCheckFake(t *testing.T, fake *testsupport.FakeAPI, r sdkResult) {
	t.Helper()
	for _, tt := range []struct {
		name     string
		scenario string
		m        *anthropic.Message
	}{{"message", testsupport.ScenarioMessage, r.Message}, {"stream", testsupport.ScenarioStream, &r.Streamed}} {
		want := fake.ExpectedUsage(tt.scenario)
		u := tt.m.Usage
		if int(u.InputTokens) != want.InputTokens || int(u.OutputTokens) != want.OutputTokens ||
			int(u.CacheCreationInputTokens) != want.CacheCreationInputTokens || int(u.CacheReadInputTokens) != want.CacheReadInputTokens {
			t.Errorf("%s: SDK usage %+v, fake's %+v", tt.name, u, want)
		}
		if tt.m.ID == "" || tt.m.StopReason == "" || len(tt.m.Content) == 0 {
			t.Errorf("%s: incomplete message %+v", tt.name, tt.m)
		}
	}
	if len(r.Events) == 0 || r.Events[0] != "message_start" || r.Events[len(r.Events)-1] != "message_stop" {
		t.Errorf("stream events %v", r.Events)
	}
}

// sdkWaitStreamRecord polls GET /_ferry/requests (the recorder flushes at
// least every second) until the streamed /v1/messages record is there.
func sdkWaitStreamRecord(t *testing.T, srv *app.Server, want testsupport.Usage) usage.RequestJSON {
	t.Helper()
	hc := sdkLoopbackClient()
	deadline := time.Now().Add(15 * time.Second)
	var last usage.RequestsPage
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.BaseURL()+"/_ferry/requests?limit=50", nil)
		req.Header.Set("X-Ferry-Admin-Token", srv.AdminToken())
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("GET /_ferry/requests: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /_ferry/requests: %d %v %s", resp.StatusCode, err, body)
		}
		last = usage.RequestsPage{}
		if err := json.Unmarshal(body, &last); err != nil {
			t.Fatalf("decode /_ferry/requests: %v: %s", err, body)
		}
		for _, rec := range last.Records {
			if rec.Stream && rec.Path == "/v1/messages" && rec.Status == http.StatusOK {
				if rec.Tokens.Input != int64(want.InputTokens) || rec.Tokens.Output != int64(want.OutputTokens) ||
					rec.Tokens.CacheRead != int64(want.CacheReadInputTokens) ||
					rec.Tokens.CacheWrite5m+rec.Tokens.CacheWrite1h != int64(want.CacheCreationInputTokens) {
					t.Errorf("recorded tokens %+v, fake sent %+v", rec.Tokens, want)
				}
				if rec.Client != "anthropic-sdk-go" {
					t.Errorf("recorded client %q, want anthropic-sdk-go", rec.Client)
				}
				return rec
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no streamed record in /_ferry/requests after 15s: %+v", last.Records)
	return usage.RequestJSON{}
}

// The official Go SDK gets the same answers through Ferry as from the API
// itself, plain HTTP and HTTPS upstream, with its own key and with Ferry's
// local token standing in for the key Ferry holds.
func TestSDKGoThroughFerry(t *testing.T) {
	for _, tt := range []struct {
		name string
		tls  bool
	}{{"http", false}, {"https_ca_file", true}} {
		t.Run(tt.name, func(t *testing.T) {
			var fake *testsupport.FakeAPI
			caFile := ""
			if tt.tls {
				fake = testsupport.NewFakeAPITLS(t)
				caFile = fake.CAPath
			} else {
				fake = testsupport.NewFakeAPI(t)
			}
			srv := sdkStartFerry(t, fake, caFile)

			direct := sdkRun(t, sdkClient(fake.URL, sdkRealKey, fake.Client()))
			sdkCheckFake(t, fake, direct)
			fake.Reset()

			t.Run("own_key", func(t *testing.T) {
				fake.Reset()
				viaFerry := sdkRun(t, sdkClient(srv.BaseURL(), sdkRealKey, sdkLoopbackClient()))
				sdkCompare(t, direct, viaFerry)
				for _, r := range fake.Requests() {
					if got := r.Header.Get("X-Api-Key"); got != sdkRealKey {
						t.Errorf("%s %s: upstream x-api-key %q, want the client's key", r.Method, r.URI, app.MaskKey(got))
					}
					if tt.tls && r.Proto != "HTTP/2.0" {
						t.Errorf("%s %s: upstream proto %s, want HTTP/2.0", r.Method, r.URI, r.Proto)
					}
				}
				rec := sdkWaitStreamRecord(t, srv, fake.ExpectedUsage(testsupport.ScenarioStream))
				if rec.Model == "" || rec.RequestID == "" || rec.LatencyMS.Total <= 0 || rec.BytesOut <= 0 {
					t.Errorf("streamed record incomplete: %+v", rec)
				}
			})

			t.Run("local_token", func(t *testing.T) {
				if _, err := srv.Keys().SetAPIKey(sdkRealKey); err != nil {
					t.Fatalf("SetAPIKey: %v", err)
				}
				t.Cleanup(func() { _ = srv.Keys().ClearAPIKey() })
				token := srv.Keys().LocalToken()
				if token == "" || token == sdkRealKey {
					t.Fatalf("local token %q", token)
				}
				fake.Reset()
				viaFerry := sdkRun(t, sdkClient(srv.BaseURL(), token, sdkLoopbackClient()))
				sdkCompare(t, direct, viaFerry)
				reqs := fake.Requests()
				if len(reqs) < 4 {
					t.Fatalf("fake saw %d requests, want at least 4", len(reqs))
				}
				for _, r := range reqs {
					if got := r.Header.Get("X-Api-Key"); got != sdkRealKey {
						t.Errorf("%s %s: upstream x-api-key %q, want the key Ferry holds", r.Method, r.URI, app.MaskKey(got))
					}
					if r.Header.Get("Authorization") != "" {
						t.Errorf("%s %s: Authorization reached the upstream", r.Method, r.URI)
					}
				}
			})

			t.Run("no_key_refused", func(t *testing.T) {
				fake.Reset()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c := sdkClient(srv.BaseURL(), srv.Keys().LocalToken(), sdkLoopbackClient())
				_, err := c.Messages.New(ctx, sdkParams)
				var apiErr *anthropic.Error
				if err == nil || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
					t.Fatalf("local token without a held key: %v, want 401", err)
				}
				if n := len(fake.Requests()); n != 0 {
					t.Errorf("fake saw %d requests for a refused call", n)
				}
			})
		})
	}
}

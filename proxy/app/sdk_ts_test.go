//go:build sdktest

package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// sdkTSDir is the npm project with @anthropic-ai/sdk (scripts/test.sh runs
// `npm ci` there before this test).
const sdkTSDir = "../../scripts/sdktest"

// sdkRunNode runs client.mjs against baseURL and returns its JSON output,
// decoded generically so that every field takes part in the comparison.
func sdkRunNode(t *testing.T, baseURL, key string, extraEnv ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client.mjs", baseURL, key)
	cmd.Dir = sdkTSDir
	// No proxy from the environment may sit between the SDK and loopback.
	cmd.Env = append(os.Environ(), "HTTPS_PROXY=", "HTTP_PROXY=", "ALL_PROXY=", "https_proxy=", "http_proxy=", "all_proxy=")
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node client.mjs %s: %v\nstderr:\n%s", baseURL, err, stderr.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("client.mjs output is not JSON: %v\n%s", err, stdout.String())
	}
	return out
}

// sdkRequireNode skips locally when node or the SDK is missing, and fails
// in CI, where scripts/test.sh installs both.
func sdkRequireNode(t *testing.T) {
	t.Helper()
	missing := t.Skipf
	if os.Getenv("CI") == "true" {
		missing = t.Fatalf
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed (scripts/test.sh installs nodejs): %v", err)
	}
	if _, err := os.Stat(filepath.Join(sdkTSDir, "node_modules", "@anthropic-ai", "sdk", "package.json")); err != nil {
		missing("@anthropic-ai/sdk is not installed: run `npm ci` in scripts/sdktest (%v)", err)
	}
}

// sdkCheckTSOutput checks that the fake's canned answers reached the SDK, so
// that "same both ways" cannot mean "equally empty".
func sdkCheckTSOutput(t *testing.T, fake *testsupport.FakeAPI, out map[string]any) {
	t.Helper()
	for _, tt := range []struct{ key, scenario string }{
		{"message", testsupport.ScenarioMessage}, {"streamed", testsupport.ScenarioStream},
	} {
		m, _ := out[tt.key].(map[string]any)
		u, _ := m["usage"].(map[string]any)
		want := fake.ExpectedUsage(tt.scenario)
		if m["id"] == "" || m["stop_reason"] == nil || u == nil ||
			u["input_tokens"] != float64(want.InputTokens) || u["output_tokens"] != float64(want.OutputTokens) {
			t.Errorf("%s: %v, fake's usage %+v", tt.key, m, want)
		}
	}
	if ev, _ := out["streamEvents"].([]any); len(ev) == 0 || ev[0] != "message_start" || ev[len(ev)-1] != "message_stop" {
		t.Errorf("stream events %v", out["streamEvents"])
	}
	if ct, _ := out["countTokens"].(map[string]any); ct == nil || ct["input_tokens"] == nil {
		t.Errorf("countTokens %v", out["countTokens"])
	}
	if ms, _ := out["models"].([]any); len(ms) != len(testsupport.Models) {
		t.Errorf("models %v, want all %d (auto-paging)", out["models"], len(testsupport.Models))
	}
}

func sdkDiffJSON(t *testing.T, direct, viaFerry map[string]any) {
	t.Helper()
	for k, d := range direct {
		if f, ok := viaFerry[k]; !ok || !reflect.DeepEqual(d, f) {
			dj, _ := json.Marshal(d)
			fj, _ := json.Marshal(f)
			t.Errorf("%s differs:\ndirect %s\nferry  %s", k, dj, fj)
		}
	}
	for k := range viaFerry {
		if _, ok := direct[k]; !ok {
			t.Errorf("%s only through Ferry", k)
		}
	}
}

// The official TypeScript SDK gets exactly the same JSON through Ferry as
// from the API itself: plain HTTP and HTTPS upstream, its own key and
// Ferry's local token.
func TestSDKTypeScriptThroughFerry(t *testing.T) {
	sdkRequireNode(t)
	for _, tt := range []struct {
		name string
		tls  bool
	}{{"http", false}, {"https_ca_file", true}} {
		t.Run(tt.name, func(t *testing.T) {
			var fake *testsupport.FakeAPI
			var caFile string
			var directEnv []string
			if tt.tls {
				fake = testsupport.NewFakeAPITLS(t)
				caFile = fake.CAPath
				directEnv = []string{"NODE_EXTRA_CA_CERTS=" + fake.CAPath}
			} else {
				fake = testsupport.NewFakeAPI(t)
			}
			srv := sdkStartFerry(t, fake, caFile)

			direct := sdkRunNode(t, fake.URL, sdkRealKey, directEnv...)
			sdkCheckTSOutput(t, fake, direct)

			t.Run("own_key", func(t *testing.T) {
				fake.Reset()
				sdkDiffJSON(t, direct, sdkRunNode(t, srv.BaseURL(), sdkRealKey))
				for _, r := range fake.Requests() {
					// @anthropic-ai/sdk 1.x sends its key as Authorization:
					// Bearer; it must arrive unchanged, in whichever header.
					xKey, auth := r.Header.Get("X-Api-Key"), r.Header.Get("Authorization")
					if xKey != sdkRealKey && auth != "Bearer "+sdkRealKey {
						t.Errorf("%s %s: upstream x-api-key %q, Authorization %q; want the client's key unchanged",
							r.Method, r.URI, app.MaskKey(xKey), app.MaskKey(auth))
					}
				}
			})

			t.Run("local_token", func(t *testing.T) {
				if _, err := srv.Keys().SetAPIKey(sdkRealKey); err != nil {
					t.Fatalf("SetAPIKey: %v", err)
				}
				t.Cleanup(func() { _ = srv.Keys().ClearAPIKey() })
				fake.Reset()
				sdkDiffJSON(t, direct, sdkRunNode(t, srv.BaseURL(), srv.Keys().LocalToken()))
				reqs := fake.Requests()
				if len(reqs) < 4 {
					t.Fatalf("fake saw %d requests, want at least 4", len(reqs))
				}
				for _, r := range reqs {
					if got := r.Header.Get("X-Api-Key"); got != sdkRealKey || r.Header.Get("Authorization") != "" {
						t.Errorf("%s %s: upstream x-api-key %q, Authorization set %v; want only the key Ferry holds",
							r.Method, r.URI, app.MaskKey(got), r.Header.Get("Authorization") != "")
					}
				}
			})
		})
	}
}

// A stream the road cuts inside a data: line, repaired by Ferry: the
// official TypeScript SDK raises an APIError of the error frame's type,
// never a JSON parse error (issue 9).
func TestSDKTypeScriptCutStreamRaisesAPIError(t *testing.T) {
	sdkRequireNode(t)
	fake := testsupport.NewFakeAPI(t)
	srv := sdkStartFerry(t, fake, "")
	for _, sc := range []string{testsupport.ScenarioCutInData, testsupport.ScenarioCutMidStream} {
		t.Run(sc, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", "cut.mjs", srv.BaseURL(), sdkRealKey, sc)
			cmd.Dir = sdkTSDir
			cmd.Env = append(os.Environ(), "HTTPS_PROXY=", "HTTP_PROXY=", "ALL_PROXY=", "https_proxy=", "http_proxy=", "all_proxy=")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("node cut.mjs: %v\nstderr:\n%s", err, stderr.String())
			}
			var out struct {
				Text       string `json:"text"`
				Completed  bool   `json:"completed"`
				IsAPIError bool   `json:"isAPIError"`
				ErrorClass string `json:"errorClass"`
				ErrorType  string `json:"errorType"`
				Message    string `json:"message"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("cut.mjs output: %v\n%s", err, stdout.String())
			}
			if out.Completed || !out.IsAPIError || out.ErrorType != "api_error" {
				t.Fatalf("the SDK got %+v; want an APIError of type api_error", out)
			}
			if sc == testsupport.ScenarioCutInData && out.Text != "This stream" {
				t.Fatalf("text before the cut %q", out.Text)
			}
		})
	}
}

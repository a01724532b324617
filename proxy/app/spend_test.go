package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/budget"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// spendCall sends one request to a running Ferry and returns status,
// headers and body.
func spendCall(t *testing.T, srv *app.Server, method, path, body string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.BaseURL()+path, strings.NewReader(body))
	req.Header.Set("content-type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := sdkLoopbackClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func adminHeaders(srv *app.Server) map[string]string {
	return map[string]string{proxy.HeaderAdminToken: srv.AdminToken()}
}

const spendMessage = `{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`

// TestHardBudgetThroughARealCore: a hard daily budget set through the
// admin API lets requests go until its spend lands, then refuses new
// Messages the way Anthropic refuses a spent workspace (400, not a retry
// signal), never count_tokens or models; "allow one more hour" lifts it.
func TestHardBudgetThroughARealCore(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := sdkStartFerry(t, fake, "")
	key := map[string]string{"x-api-key": sdkRealKey}

	if code, _, body := spendCall(t, srv, "PUT", "/_ferry/budgets", `{"name":"daily","limit":0.000001,"mode":"hard"}`, adminHeaders(srv)); code != 200 {
		t.Fatalf("set budget: %d %s", code, body)
	}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages", spendMessage, key); code != 200 {
		t.Fatalf("first message: %d %s", code, body)
	}
	// Its cost lands when it is accounted (in a batch, off the request's
	// path): wait for the budget to see it.
	var view budget.View
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, body := spendCall(t, srv, "GET", "/_ferry/budgets", "", adminHeaders(srv))
		if err := json.Unmarshal([]byte(body), &view); err != nil {
			t.Fatalf("GET /_ferry/budgets: %v: %s", err, body)
		}
		if len(view.Budgets) == 1 && view.Budgets[0].Refusing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spend never landed: %+v", view)
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := len(fake.Requests())
	code, h, body := spendCall(t, srv, "POST", "/v1/messages", spendMessage, key)
	if code != 400 || h.Get("x-ferry-error") != "1" || !strings.Contains(body, `"invalid_request_error"`) ||
		!strings.Contains(body, "daily budget is spent") || !strings.Contains(body, "resets at") {
		t.Fatalf("over budget: %d %v %s", code, h, body)
	}
	if len(fake.Requests()) != before {
		t.Fatal("a refused request reached the upstream")
	}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages/count_tokens", spendMessage, key); code != 200 {
		t.Fatalf("count_tokens refused over budget: %d %s", code, body)
	}
	if code, _, body := spendCall(t, srv, "GET", "/v1/models", "", key); code != 200 {
		t.Fatalf("models refused over budget: %d %s", code, body)
	}
	if code, _, body := spendCall(t, srv, "POST", "/_ferry/budgets/allow", `{"duration":"1h","by":"test"}`, adminHeaders(srv)); code != 200 {
		t.Fatalf("allow: %d %s", code, body)
	}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages", spendMessage, key); code != 200 {
		t.Fatalf("refused during the allowance: %d %s", code, body)
	}
}

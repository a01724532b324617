package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/budget"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/limit"
	"github.com/ferry-gateway/ferry/proxy/quota"
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
	// The refusal is counted once accounted: in the budgets' view and on
	// /_ferry/metrics beside the spend against the budget.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, _, body := spendCall(t, srv, "GET", "/_ferry/budgets", "", adminHeaders(srv))
		if err := json.Unmarshal([]byte(body), &view); err != nil {
			t.Fatal(err)
		}
		if view.Refused[budget.Daily] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refusal not counted: %+v", view)
		}
	}
	_, _, metrics := spendCall(t, srv, "GET", "/_ferry/metrics", "", adminHeaders(srv))
	for _, want := range []string{`ferry_spend_guard_refusals_total{guard="budget",reason="daily"} 1`, `ferry_budget_limit{budget="daily"} 1e-06`,
		`ferry_budget_spent{basis="billed",budget="daily",mode="hard"}`, `ferry_queue_requests{state="waiting"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, _, body := spendCall(t, srv, "POST", "/_ferry/budgets/allow", `{"duration":"1h","by":"test"}`, adminHeaders(srv)); code != 200 {
		t.Fatalf("allow: %d %s", code, body)
	}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages", spendMessage, key); code != 200 {
		t.Fatalf("refused during the allowance: %d %s", code, body)
	}
}

// countingUpstream runs the fake API behind a handler that counts how
// many requests are inside it at once.
type countingUpstream struct {
	fake         *testsupport.FakeAPI
	inside, most atomic.Int32
}

func (c *countingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.inside.Add(1)
	defer c.inside.Add(-1)
	for {
		m := c.most.Load()
		if n <= m || c.most.CompareAndSwap(m, n) {
			break
		}
	}
	c.fake.ServeHTTP(w, r)
}

// TestQueueThroughARealCore: a fan-out of 20 clients at limit.concurrency
// 4 all complete, never more than 4 at once upstream; the queue is
// visible in /_ferry/limits. Then the local rate limit answers 429 with
// retry-after.
func TestQueueThroughARealCore(t *testing.T) {
	up := &countingUpstream{fake: testsupport.NewFakeAPI(t)}
	upstream := httptest.NewServer(up)
	t.Cleanup(upstream.Close)
	srv := sdkStartFerry(t, &testsupport.FakeAPI{URL: upstream.URL}, "")
	for k, v := range map[string]string{"limit.concurrency": "4", "limit.rpm": "30"} {
		if code, _, body := spendCall(t, srv, "PUT", "/_ferry/config/"+k, `{"value":"`+v+`"}`, adminHeaders(srv)); code != 200 {
			t.Fatalf("set %s: %d %s", k, code, body)
		}
	}
	var lv limit.View
	_, _, body := spendCall(t, srv, "GET", "/_ferry/limits", "", adminHeaders(srv))
	if err := json.Unmarshal([]byte(body), &lv); err != nil || lv.Concurrency != 4 || lv.RPM != 30 || lv.Queue.Limit != 4 {
		t.Fatalf("limits after the knobs changed: %+v %v", lv, err)
	}
	key := map[string]string{"x-api-key": sdkRealKey, testsupport.ScenarioHeader: "message;delay=150ms"}
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Distinct requests: twenty equal ones would be a loop to the runaway brake.
			codes[i], _, _ = spendCall(t, srv, "POST", "/v1/messages", distinct(spendMessage, i), key)
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("client %d: %d", i, c)
		}
	}
	if m := up.most.Load(); m > 4 || m < 2 {
		t.Errorf("%d requests upstream at once; limit.concurrency is 4", m)
	}
	// 20 of the 30-a-minute burst are spent: a few more and it is empty.
	var code int
	var h http.Header
	for i := range 20 { // a few more: the bucket refilled while the fan-out ran
		code, h, _ = spendCall(t, srv, "POST", "/v1/messages", distinct(spendMessage, 100+i), key)
		if code != 200 {
			break
		}
	}
	if code != 429 || h.Get("Retry-After") == "" || h.Get("x-ferry-error") != "1" {
		t.Fatalf("over the rpm: %d retry-after %q", code, h.Get("Retry-After"))
	}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages/count_tokens", spendMessage, key); code != 200 {
		t.Fatalf("count_tokens counted against the rpm: %d %s", code, body)
	}
	_, _, body = spendCall(t, srv, "GET", "/_ferry/limits", "", adminHeaders(srv))
	if err := json.Unmarshal([]byte(body), &lv); err != nil || lv.Refused["rpm"] != 1 || lv.Waited == 0 || lv.WaitedMS <= 0 {
		t.Fatalf("limits view after the run: %+v %v", lv, err)
	}
}

// TestQuotaThroughARealCore: a subscription's quota headers on upstream
// responses show in /_ferry/quota with the tray line.
func TestQuotaThroughARealCore(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	reset := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("anthropic-ratelimit-unified-status", "allowed")
		h.Set("anthropic-ratelimit-unified-representative-claim", "five_hour")
		h.Set("anthropic-ratelimit-unified-5h-utilization", "0.42")
		h.Set("anthropic-ratelimit-unified-5h-reset", strconv.FormatInt(reset.Unix(), 10))
		h.Set("anthropic-ratelimit-unified-7d-utilization", "0.63")
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	srv := sdkStartFerry(t, &testsupport.FakeAPI{URL: upstream.URL}, "")
	oauth := map[string]string{"authorization": "Bearer sk-ant-oat01-quotatest-000000000000", "anthropic-beta": "oauth-2025-04-20"}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages", spendMessage, oauth); code != 200 {
		t.Fatalf("message: %d %s", code, body)
	}
	_, _, body := spendCall(t, srv, "GET", "/_ferry/quota", "", adminHeaders(srv))
	var v quota.View
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(v.Accounts) != 1 || v.Accounts[0].Account != testsupport.OrganizationID || !strings.HasPrefix(v.Line, "5h 42% · resets ") || !strings.HasSuffix(v.Line, " · week 63%") {
		t.Fatalf("quota view %+v", v)
	}
}

// brakeLoop is a Claude Code request whose last 9 tool calls are the same
// call with the same result.
func brakeLoop() string {
	var b strings.Builder
	b.WriteString(`{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"fix it"}`)
	for i := range 9 {
		fmt.Fprintf(&b, `,{"role":"assistant","content":[{"type":"tool_use","id":"toolu_%d","name":"Bash","input":{"command":"make"}}]}`, i)
		fmt.Fprintf(&b, `,{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_%d","content":"error: missing ;"}]}`, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestBrakeThroughARealCore: a looping agent is stopped with a 400 that
// says how to go on; x-ferry-brake: off lets one request through (and
// never reaches Anthropic); a release lifts it for the session;
// count_tokens is never braked.
func TestBrakeThroughARealCore(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := sdkStartFerry(t, fake, "")
	hdr := map[string]string{"x-api-key": sdkRealKey, "X-Claude-Code-Session-Id": "0b9f3c1e-loop"}
	code, h, body := spendCall(t, srv, "POST", "/v1/messages", brakeLoop(), hdr)
	if code != 400 || h.Get("x-ferry-error") != "1" || !strings.Contains(body, "runaway brake") || !strings.Contains(body, "ferry brake release 0b9f3c1e-loop") {
		t.Fatalf("loop: %d %s", code, body)
	}
	if len(fake.Requests()) != 0 {
		t.Fatal("the braked request reached the upstream")
	}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages/count_tokens", brakeLoop(), hdr); code != 200 {
		t.Fatalf("count_tokens braked: %d %s", code, body)
	}
	off := map[string]string{"x-api-key": sdkRealKey, "X-Claude-Code-Session-Id": "0b9f3c1e-loop", "x-ferry-brake": "off"}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages", brakeLoop(), off); code != 200 {
		t.Fatalf("x-ferry-brake: off: %d %s", code, body)
	}
	if last := fake.Last(); last.Header.Get("x-ferry-brake") != "" {
		t.Fatal("x-ferry-brake went upstream")
	}
	if code, _, _ := spendCall(t, srv, "POST", "/v1/messages", brakeLoop(), hdr); code != 400 {
		t.Fatalf("the switch outlived its request: %d", code)
	}
	if code, _, body := spendCall(t, srv, "POST", "/_ferry/brake/release", `{"session":"0b9f3c1e-loop","by":"test"}`, adminHeaders(srv)); code != 200 {
		t.Fatalf("release: %d %s", code, body)
	}
	if code, _, body := spendCall(t, srv, "POST", "/v1/messages", brakeLoop(), hdr); code != 200 {
		t.Fatalf("after release: %d %s", code, body)
	}
}

// TestSubscriptionAndAlertsThroughARealCore: a subscription request is
// billed $0 and counted at API prices on the api_equivalent basis; a soft
// budget it crosses raises budget.alert on the event stream, and refuses
// nothing.
func TestSubscriptionAndAlertsThroughARealCore(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := sdkStartFerry(t, fake, "")
	// The stream never ends by itself: a missing alert fails the test
	// instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.BaseURL()+"/_ferry/events", nil)
	req.Header.Set(proxy.HeaderAdminToken, srv.AdminToken())
	resp, err := sdkLoopbackClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)

	if code, _, body := spendCall(t, srv, "PUT", "/_ferry/budgets", `{"name":"daily","limit":0.000001,"mode":"soft","basis":"api_equivalent"}`, adminHeaders(srv)); code != 200 {
		t.Fatalf("set budget: %d %s", code, body)
	}
	oauth := map[string]string{"authorization": "Bearer sk-ant-oat01-subscriber-000000000000", "anthropic-beta": "oauth-2025-04-20"}
	for range 2 {
		if code, _, body := spendCall(t, srv, "POST", "/v1/messages", spendMessage, oauth); code != 200 {
			t.Fatalf("a soft budget refused: %d %s", code, body)
		}
	}
	// The alert: the event stream names it, with its figures.
	var name, data string
	for lines.Scan() {
		if n, ok := strings.CutPrefix(lines.Text(), "event: "); ok {
			name = n
		}
		if d, ok := strings.CutPrefix(lines.Text(), "data: "); ok && name == "budget.alert" {
			data = d
			break
		}
	}
	var w events.Wire
	if err := json.Unmarshal([]byte(data), &w); err != nil || w.Attrs["budget"] != "daily" || w.Attrs["level"] != "100" || w.Attrs["basis"] != "api_equivalent" {
		t.Fatalf("budget.alert %q: %+v %v", data, w, err)
	}
	// Both requests are accounted in a batch after they end: wait for the
	// second.
	var v budget.View
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, _, body := spendCall(t, srv, "GET", "/_ferry/budgets", "", adminHeaders(srv))
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if v.Today.Requests == 2 || time.Now().After(deadline) {
			break
		}
	}
	if v.Today.Billed != 0 || v.Today.Equiv <= 0 || v.Today.Requests != 2 || v.Budgets[0].Refusing {
		t.Fatalf("subscription spend: %+v", v)
	}
}

// distinct makes a JSON request body unique by a metadata field.
func distinct(body string, i int) string {
	return strings.Replace(body, "{", `{"metadata":{"user_id":"u`+strconv.Itoa(i)+`"},`, 1)
}

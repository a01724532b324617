package cache_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// TestCoalesce64: 64 identical streaming requests at once make exactly one
// upstream call, and every client gets the same bytes.
func TestCoalesce64(t *testing.T) {
	r := newRig(t)
	// A stream slow enough that all 64 arrive while it is in flight.
	q := req{body: streamBody, header: map[string]string{testsupport.ScenarioHeader: "slow;gap=100ms;total=1s"}}
	const n = 64
	bodies := make([][]byte, n)
	tags := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			g := r.do(q)
			bodies[i], tags[i] = g.body, g.header.Get("X-Ferry-Cache")
		})
	}
	wg.Wait()
	if c := r.upstreamCalls(); c != 1 {
		t.Fatalf("%d upstream calls, want 1", c)
	}
	count := map[string]int{}
	for i := range n {
		count[tags[i]]++
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("client %d got other bytes", i)
		}
	}
	if count["miss"] != 1 || count["coalesced"]+count["hit"] != n-1 {
		t.Fatalf("x-ferry-cache values: %v", count)
	}
	if !bytes.Contains(bodies[0], []byte("event: message_stop")) {
		t.Fatalf("incomplete stream: %q", bodies[0])
	}
	// Records: one paid the call, the others saved it.
	paid, saved := 0, 0
	for range n {
		rec := r.recs.next(t)
		switch {
		case rec.CostUSD > 0 && !rec.Coalesced:
			paid++
		case rec.Coalesced && rec.CostUSD == 0 && rec.SavedUSD > 0 && rec.Tokens.Output == 0:
			saved++
		case rec.CacheHit && rec.CostUSD == 0:
			saved++
		default:
			t.Errorf("record: coalesced=%v hit=%v cost=%v saved=%v tokens=%+v", rec.Coalesced, rec.CacheHit, rec.CostUSD, rec.SavedUSD, rec.Tokens)
		}
	}
	if paid != 1 || saved != n-1 {
		t.Fatalf("paid %d saved %d", paid, saved)
	}
}

// stream opens a streaming request and returns its response unread.
func (r *rig) stream(ctx context.Context, q req) *http.Response {
	r.t.Helper()
	hr, _ := http.NewRequestWithContext(ctx, "POST", r.url+"/v1/messages", bytes.NewReader([]byte(q.body)))
	hr.Header.Set("X-Api-Key", apiKey)
	hr.Header.Set("Anthropic-Version", "2023-06-01")
	for k, v := range q.header {
		hr.Header.Set(k, v)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	r.t.Cleanup(tr.CloseIdleConnections)
	res, err := tr.RoundTrip(hr)
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// waitCalls waits until the fake has seen n requests.
func (r *rig) waitCalls(n int) {
	r.t.Helper()
	if !r.fake.WaitFor(30*time.Second, func(rs []testsupport.Request) bool { return len(rs) >= n }) {
		r.t.Fatalf("fake never saw %d requests", n)
	}
}

// TestCoalesceLeaverAndLateJoiner: the first client leaving doesn't cancel
// the call for the others; a client joining mid-stream gets it from its
// first byte; the call is cancelled only when the last one leaves.
func TestCoalesceLeaverAndLateJoiner(t *testing.T) {
	r := newRig(t)
	q := req{body: streamBody, header: map[string]string{testsupport.ScenarioHeader: "slow;gap=200ms;total=2s"}}
	ctx1, leave1 := context.WithCancel(context.Background())
	first := r.stream(ctx1, q)
	r.waitCalls(1)
	// The leader reads its first frame, then leaves.
	bufio.NewReader(first.Body).ReadString('\n')
	second := r.stream(context.Background(), q)
	if second.Header.Get("X-Ferry-Cache") != "coalesced" {
		t.Fatalf("second: %q", second.Header.Get("X-Ferry-Cache"))
	}
	leave1()
	first.Body.Close()
	time.Sleep(300 * time.Millisecond) // a frame or so later: still one call, still going
	third := r.stream(context.Background(), q)
	b2, err2 := io.ReadAll(second.Body)
	b3, err3 := io.ReadAll(third.Body)
	if err2 != nil || err3 != nil {
		t.Fatalf("reads: %v %v", err2, err3)
	}
	if !bytes.Equal(b2, b3) || !bytes.Contains(b2, []byte("event: message_stop")) {
		t.Fatalf("late joiner or follower got another or a cut stream:\n%q\n%q", b2, b3)
	}
	if c := r.upstreamCalls(); c != 1 {
		t.Fatalf("%d upstream calls, want 1", c)
	}
	if rq := r.fake.Last(); rq.Cancelled {
		t.Fatal("the upstream call was cancelled when the first client left")
	}

	// Everyone leaves: the call is cancelled.
	q.body = `{"model":"claude-sonnet-4-5","max_tokens":7,"stream":true,"messages":[]}`
	ctx4, leave4 := context.WithCancel(context.Background())
	ctx5, leave5 := context.WithCancel(context.Background())
	s4 := r.stream(ctx4, q)
	s5 := r.stream(ctx5, q)
	leave4()
	s4.Body.Close()
	leave5()
	s5.Body.Close()
	if _, ok := r.fake.WaitCancelled(30 * time.Second); !ok {
		t.Fatal("upstream call not cancelled after the last client left")
	}
}

// TestCoalesceSlowClientCut: a client that stops reading is cut once it
// is more than 1 MB behind; the others get the whole answer.
func TestCoalesceSlowClientCut(t *testing.T) {
	r := newRig(t)
	// About 15 MB of frames, at the fake's full speed.
	q := req{body: streamBody, header: map[string]string{testsupport.ScenarioHeader: "large;frames=150000"}}
	slow := r.stream(context.Background(), q)
	r.waitCalls(1)
	fast := r.stream(context.Background(), q)
	b, err := io.ReadAll(fast.Body)
	if err != nil || !bytes.Contains(b, []byte("event: message_stop")) {
		t.Fatalf("fast client: err %v, %d bytes", err, len(b))
	}
	// Now the slow one reads: what it has is cut short with an error frame.
	s, _ := io.ReadAll(slow.Body)
	if bytes.Contains(s, []byte("event: message_stop")) || !bytes.Contains(s, []byte("event: error")) {
		t.Fatalf("slow client not cut with an error frame: %d bytes, tail %q", len(s), s[max(0, len(s)-300):])
	}
	if c := r.upstreamCalls(); c != 1 {
		t.Fatalf("%d upstream calls", c)
	}
}

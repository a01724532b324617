package brake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/events"
)

// turn is one tool call and its result, as Claude Code sends them.
type turn struct {
	tool, input, result string
}

// conversation builds a Messages request body: a user prompt, then each
// turn as an assistant tool_use and a user tool_result.
func conversation(turns []turn) []byte {
	var b strings.Builder
	b.WriteString(`{"model":"claude-sonnet-4-6","max_tokens":1024,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1; cch=abc;"}],"messages":[{"role":"user","content":"fix the build"}`)
	for i, t := range turns {
		fmt.Fprintf(&b, `,{"role":"assistant","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_%02d","name":%q,"input":%s}]}`, i, t.tool, t.input)
		fmt.Fprintf(&b, `,{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_%02d","content":%q}]}`, i, t.result)
	}
	b.WriteString(`],"stream":true}`)
	return []byte(b.String())
}

func same(n int) []turn {
	ts := make([]turn, n)
	for i := range ts {
		ts[i] = turn{"Bash", `{"command":"npm test","timeout":60000}`, "1 failing: expected 2, got 3"}
	}
	return ts
}

func TestLoop(t *testing.T) {
	growing := make([]turn, 40)
	for i := range growing {
		growing[i] = turn{"Read", fmt.Sprintf(`{"file_path":"/src/f%d.go"}`, i), fmt.Sprintf("package f%d", i)}
	}
	sameInputNewResults := same(12)
	for i := range sameInputNewResults {
		sameInputNewResults[i].result = fmt.Sprintf("%d tests passed", i)
	}
	reordered := same(8)
	reordered[3].result = "1 failing: expected 2, got 3" // the same result
	respelled := same(9)
	respelled[3].input = `{ "command": "npm test", "timeout": 60000 }` // an older call written differently
	brokenAtEnd := append(same(10), turn{"Edit", `{"file_path":"a.go"}`, "ok"})
	for _, tc := range []struct {
		name  string
		turns []turn
		loop  bool
	}{
		{"8 equal calls with equal results", same(8), true},
		{"7 are not yet a loop", same(7), false},
		{"after other work, the last 8 equal", append(growing[:5:5], same(8)...), true},
		{"a growing conversation", growing, false},
		{"the same call with new results (polling that progresses)", sameInputNewResults, false},
		{"the same results", reordered, true},
		{"an older call spelt differently: the same call as a JSON value", respelled, true},
		{"the loop broken by the last call", brokenAtEnd, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tool, loop := Loop(conversation(tc.turns), 8)
			if loop != tc.loop || (loop && tool != "Bash") {
				t.Errorf("Loop = %q %v, want %v", tool, loop, tc.loop)
			}
		})
	}
	if _, loop := Loop([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), 8); loop {
		t.Error("a chat without tools")
	}
	if _, loop := Loop([]byte(`{"messages":"tool_result"`), 8); loop {
		t.Error("garbage")
	}
}

type pub struct{ evs []events.Event }

func (p *pub) add(e events.Event) { p.evs = append(p.evs, e) }

func TestBrakeStage(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	p := &pub{}
	b, err := New(Options{Publish: p.add, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	run := func(path, session string, body []byte, key string) error {
		_, err := b.run(context.Background(), &proxy.Outgoing{Method: "POST", Path: path, Session: session, Body: body, Key: key})
		return err
	}
	loop := conversation(same(9))
	err = run("/v1/messages", "sess-a", loop, "")
	var fe *proxy.Error
	if err == nil || !errors.As(err, &fe) || fe.Status != 400 || fe.Type != proxy.TypeInvalidRequest ||
		!strings.Contains(fe.Message, "x-ferry-brake: off") || !strings.Contains(fe.Message, "ferry brake release sess-a") {
		t.Fatalf("loop not braked: %v", err)
	}
	if err := run("/v1/messages", "sess-a", loop, ""); err == nil {
		t.Fatal("the next request of the loop went on")
	}
	if len(p.evs) != 1 || p.evs[0].Kind != events.BrakeFired || p.evs[0].Attrs["tool"] != "Bash" {
		t.Fatalf("events %+v, want one brake.fired", p.evs)
	}
	if err := run("/v1/messages/count_tokens", "sess-a", loop, ""); err != nil {
		t.Fatalf("count_tokens braked: %v", err)
	}
	if l := b.List(); len(l) != 1 || l[0].Session != "sess-a" || l[0].Reason != "tool_loop" {
		t.Fatalf("list %+v", l)
	}
	if _, err := b.Release("sess-a", time.Hour, "cli"); err != nil {
		t.Fatal(err)
	}
	if err := run("/v1/messages", "sess-a", loop, ""); err != nil {
		t.Fatalf("released session braked: %v", err)
	}
	if err := run("/v1/messages", "sess-b", loop, ""); err == nil {
		t.Fatal("the release lifted the brake of another session")
	}

	// One canonical request answered 8 times within the window.
	for range 8 {
		if err := run("/v1/messages", "sess-c", []byte(`{"messages":[]}`), "k1"); err != nil {
			t.Fatal(err)
		}
		b.succeeded("sess-c", "k1", DefaultWindow, now)
	}
	if err := run("/v1/messages", "sess-c", []byte(`{"messages":[]}`), "k1"); err == nil {
		t.Fatal("the 9th identical request went on")
	}
	if err := run("/v1/messages", "sess-c", []byte(`{"messages":[]}`), "k2"); err != nil {
		t.Fatalf("another request braked: %v", err)
	}
	now = now.Add(DefaultWindow + time.Second)
	if err := run("/v1/messages", "sess-c", []byte(`{"messages":[]}`), "k1"); err != nil {
		t.Fatalf("braked after the window passed: %v", err)
	}
}

// TestBrakeIgnoresCountTokensBursts: Claude Code's start-up burst of 50
// identical count_tokens never trips the brake.
func TestBrakeIgnoresCountTokensBursts(t *testing.T) {
	b, _ := New(Options{})
	for range 50 {
		out := &proxy.Outgoing{Method: "POST", Path: "/v1/messages/count_tokens", Session: "s", Body: conversation(same(9)), Key: "same"}
		if _, err := b.run(context.Background(), out); err != nil {
			t.Fatal(err)
		}
	}
	if len(b.List()) != 0 {
		t.Fatal("count_tokens recorded a stop")
	}
}

// BenchmarkLoop is the brake's cost on a Claude Code request that is not
// looping, by conversation length: it runs on every Messages request.
//
//	go test ./proxy/brake -run '^$' -bench Loop
func BenchmarkLoop(b *testing.B) {
	for _, turns := range []int{12, 200} {
		ts := make([]turn, turns)
		for i := range ts {
			ts[i] = turn{"Read", fmt.Sprintf(`{"file_path":"/src/f%d.go"}`, i), strings.Repeat(fmt.Sprintf("line of file %d\n", i), 150)}
		}
		body := conversation(ts)
		b.Run(fmt.Sprintf("turns=%d/%dKB", turns, len(body)>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, loop := Loop(body, DefaultRepeats); loop {
					b.Fatal("loop")
				}
			}
		})
	}
}

// A session that sent more distinct requests than the brake keeps keys
// for (every Claude Code turn is a new request) is still braked when it
// then repeats one request: the oldest keys make room.
func TestBrakeAfterManyDistinctRequests(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	b, err := New(Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	run := func(key string) error {
		_, err := b.run(context.Background(), &proxy.Outgoing{Method: "POST", Path: "/v1/messages", Session: "busy", Body: []byte(`{"messages":[]}`), Key: key})
		return err
	}
	for i := range 3 * maxKeysPerSess {
		now = now.Add(time.Second / 10)
		key := fmt.Sprintf("turn-%d", i)
		if err := run(key); err != nil {
			t.Fatalf("distinct request %d braked: %v", i, err)
		}
		b.succeeded("busy", key, DefaultWindow, now)
	}
	for range DefaultRepeats {
		now = now.Add(time.Second)
		if err := run("stuck"); err != nil {
			t.Fatal(err)
		}
		b.succeeded("busy", "stuck", DefaultWindow, now)
	}
	if err := run("stuck"); err == nil {
		t.Fatalf("the %dth identical request after %d distinct ones went on", DefaultRepeats+1, 3*maxKeysPerSess)
	}
	b.mu.Lock()
	n := len(b.sessions["busy"].requests)
	b.mu.Unlock()
	if n > maxKeysPerSess {
		t.Errorf("%d keys kept, at most %d", n, maxKeysPerSess)
	}
}

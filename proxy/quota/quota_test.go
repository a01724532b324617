package quota

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// realShaped is a response's headers as Anthropic sends them to Claude
// Code on a Max plan (names as net/http canonicalises them; values as
// observed: utilisation 0..1, resets in epoch seconds).
func realShaped(u5h, u7d string, reset5h, reset7d time.Time) http.Header {
	return http.Header{
		"Anthropic-Organization-Id":                         {"0f0e0d0c-fa4e-4f0e-8e77-000000000001"},
		"Anthropic-Ratelimit-Unified-Status":                {"allowed"},
		"Anthropic-Ratelimit-Unified-Representative-Claim":  {"five_hour"},
		"Anthropic-Ratelimit-Unified-Fallback":              {"available"},
		"Anthropic-Ratelimit-Unified-Overage-Status":        {"rejected"},
		"Anthropic-Ratelimit-Unified-Overage-Utilization":   {"0.0"},
		"Anthropic-Ratelimit-Unified-Reset":                 {"1764680400"},
		"Anthropic-Ratelimit-Unified-5h-Status":             {"allowed"},
		"Anthropic-Ratelimit-Unified-5h-Utilization":        {u5h},
		"Anthropic-Ratelimit-Unified-5h-Reset":              {itoa(reset5h)},
		"Anthropic-Ratelimit-Unified-7d-Status":             {"allowed"},
		"Anthropic-Ratelimit-Unified-7d-Utilization":        {u7d},
		"Anthropic-Ratelimit-Unified-7d-Reset":              {itoa(reset7d)},
		"Anthropic-Ratelimit-Unified-7d-Sonnet-Utilization": {"0.31"},
		"Anthropic-Ratelimit-Unified-7d-Sonnet-Reset":       {itoa(reset7d)},
		"Request-Id":   {"req_011CUq"},
		"Content-Type": {"text/event-stream; charset=utf-8"},
	}
}

func itoa(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

type published struct {
	mu  sync.Mutex
	evs []events.Event
}

func (p *published) add(e events.Event) { p.mu.Lock(); p.evs = append(p.evs, e); p.mu.Unlock() }
func (p *published) levels() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s []string
	for _, e := range p.evs {
		s = append(s, e.Attrs["window"]+"@"+e.Attrs["level"])
	}
	return strings.Join(s, " ")
}

func TestQuotaFromRealShapedHeaders(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 12, 2, 13, 0, 0, 0, loc)
	r5 := time.Date(2026, 12, 2, 16, 20, 0, 0, loc)
	r7 := time.Date(2026, 12, 6, 9, 0, 0, 0, loc)
	pub := &published{}
	var fire []func()
	tr := NewTracker(Options{Publish: pub.add, Now: func() time.Time { return now },
		AfterFunc: func(d time.Duration, f func()) func() bool {
			fire = append(fire, f)
			return func() bool { return true }
		}})
	defer tr.Close()

	tr.Observe(realShaped("0.42", "0.63", r5, r7), "")
	accts := tr.Accounts()
	if len(accts) != 1 || accts[0].Account != "0f0e0d0c-fa4e-4f0e-8e77-000000000001" || accts[0].RepresentativeClaim != "five_hour" {
		t.Fatalf("accounts %+v", accts)
	}
	w, ok := accts[0].Window("5h")
	if !ok || w.Utilization != 0.42 || !w.Reset.Equal(r5) || w.Status != "allowed" {
		t.Fatalf("5h window %+v", w)
	}
	if w, ok := accts[0].Window("7d-sonnet"); !ok || w.Utilization != 0.31 {
		t.Fatalf("7d-sonnet window %+v", w)
	}
	if got := Line(accts[0], loc); got != "5h 42% · resets 16:20 · week 63%" {
		t.Errorf("tray line %q", got)
	}
	if pub.levels() != "" {
		t.Fatalf("notified at 42%%: %s", pub.levels())
	}
	var out strings.Builder
	if err := WriteText(&out, tr.View(loc), now, loc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"5h", "42%", "3h20m0s", "7d-sonnet", "31%"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("ferry quota output lacks %q:\n%s", want, out.String())
		}
	}

	// 80 % and 95 % once each per window; a new window starts afresh.
	tr.Observe(realShaped("0.81", "0.7", r5, r7), "")
	tr.Observe(realShaped("0.85", "0.7", r5, r7), "")
	tr.Observe(realShaped("0.97", "0.7", r5, r7), "")
	tr.Observe(realShaped("0.99", "0.7", r5, r7), "")
	if got := pub.levels(); got != "5h@80 5h@95" {
		t.Fatalf("notifications %q, want 5h@80 5h@95", got)
	}
	// Exhausted: a notification is scheduled for the reset.
	spent := realShaped("1.0", "0.7", r5, r7)
	spent.Set("Anthropic-Ratelimit-Unified-Status", "rejected")
	spent.Set("Anthropic-Ratelimit-Unified-5h-Status", "rejected")
	tr.Observe(spent, "")
	if len(fire) != 1 {
		t.Fatalf("%d reset notifications scheduled, want 1", len(fire))
	}
	fire[0]()
	if got := pub.levels(); got != "5h@80 5h@95 5h@reset" {
		t.Fatalf("notifications %q, want … 5h@reset", got)
	}
	next := r5.Add(5 * time.Hour)
	tr.Observe(realShaped("0.9", "0.7", next, r7), "")
	if got := pub.levels(); got != "5h@80 5h@95 5h@reset 5h@80" {
		t.Fatalf("notifications %q, want a new 5h@80 for the next window", got)
	}
}

func TestQuotaIgnoresKeyResponses(t *testing.T) {
	tr := NewTracker(Options{})
	tr.Observe(http.Header{"Anthropic-Ratelimit-Requests-Limit": {"4000"}, "Request-Id": {"req_1"}}, "")
	if len(tr.Accounts()) != 0 {
		t.Fatal("an API-key response made a quota account")
	}
	if v := tr.View(time.UTC); v.Line != "" || len(v.Accounts) != 0 {
		t.Fatalf("%+v", v)
	}
}

// memSettings stores JSON in memory, as storage.DB does on disk.
type memSettings struct{ m map[string][]byte }

func (s *memSettings) GetSetting(key string, into any) (bool, error) {
	b, ok := s.m[key]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, into)
}

func (s *memSettings) PutSetting(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = b
	return nil
}

// TestQuotaKeptAcrossRestarts: the latest reading is saved (once for a
// burst, and at Close), shown by a new tracker, and its notifications are
// not repeated.
func TestQuotaKeptAcrossRestarts(t *testing.T) {
	now := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	r5, r7 := now.Add(3*time.Hour), now.Add(4*24*time.Hour)
	st := &memSettings{}
	var pending []func()
	after := func(d time.Duration, f func()) func() bool {
		pending = append(pending, f)
		return func() bool { return true }
	}
	pub := &published{}
	tr := NewTracker(Options{Settings: st, Publish: pub.add, Now: func() time.Time { return now }, AfterFunc: after})
	tr.Observe(realShaped("0.85", "0.5", r5, r7), "")
	tr.Observe(realShaped("0.86", "0.5", r5, r7), "")
	if len(pending) != 1 {
		t.Fatalf("%d saves scheduled for a burst, want 1", len(pending))
	}
	pending[0]()
	if _, ok := st.m[SettingsKey]; !ok {
		t.Fatal("nothing saved")
	}
	tr.Observe(realShaped("0.87", "0.5", r5, r7), "")
	tr.Close() // writes the pending reading
	if pub.levels() != "5h@80" {
		t.Fatalf("notifications %q", pub.levels())
	}

	again := NewTracker(Options{Settings: st, Publish: pub.add, Now: func() time.Time { return now }, AfterFunc: after})
	accts := again.Accounts()
	if w, ok := accts[0].Window("5h"); len(accts) != 1 || !ok || w.Utilization != 0.87 {
		t.Fatalf("after a restart: %+v", accts)
	}
	again.Observe(realShaped("0.88", "0.5", r5, r7), "")
	if pub.levels() != "5h@80" {
		t.Fatalf("a restart repeated a notification: %q", pub.levels())
	}
}

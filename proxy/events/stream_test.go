package events

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// sseFrame is one event as a reader sees it.
type sseFrame struct {
	id, name, data string
	comment        string // a comment-only block (": heartbeat")
}

// reader reads frames off a live stream.
type reader struct {
	t    *testing.T
	resp *http.Response
	sc   *bufio.Scanner
}

func connect(t *testing.T, url, lastID string) *reader {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	r := &reader{t: t, resp: resp, sc: bufio.NewScanner(resp.Body)}
	if f := r.next(); f.comment != ": ferry events" {
		t.Fatalf("first block %+v, want the opening comment", f)
	}
	return r
}

func (r *reader) next() sseFrame {
	r.t.Helper()
	var f sseFrame
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			return f
		case strings.HasPrefix(line, ":"):
			f.comment = line
		case strings.HasPrefix(line, "id: "):
			f.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			f.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			f.data = line[6:]
		}
	}
	r.t.Fatalf("stream ended: %v", r.sc.Err())
	return f
}

func serve(t *testing.T, opts StreamOptions) (*Bus, *Stream, string) {
	t.Helper()
	bus := &Bus{}
	s := NewStream(bus, opts)
	srv := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); srv.Close() })
	return bus, s, srv.URL
}

func TestStreamOrderIDsAndNoBodies(t *testing.T) {
	bus, s, url := serve(t, StreamOptions{})
	r := connect(t, url, "")
	rec := &storage.Record{Model: "claude-sonnet-4-5", Status: 200, Route: "Office", Total: 1500 * time.Millisecond,
		RequestBody: []byte("PROMPT-SECRET"), ResponseBody: []byte("ANSWER-SECRET"), KeyFingerprint: "fp-1234",
		Tokens: storage.Tokens{Input: 10, Output: 20}}
	sent := []Event{
		{Kind: StateChanged, Detail: "paused"},
		{Kind: RequestFinished, Record: rec},
		{Kind: RouteDown, Route: "Office", Detail: "connection refused"},
		{Kind: RouteUp, Route: "Office", Up: true, Latency: 182 * time.Millisecond},
		{Kind: SettingsChanged, Detail: "language"},
	}
	for _, e := range sent {
		bus.Publish(e)
	}
	for i, want := range sent {
		f := r.next()
		if f.id != fmt.Sprintf("%s-%d", s.run, i+1) || f.name != string(want.Kind) {
			t.Fatalf("event %d: id %q name %q, want %s-%d %s", i, f.id, f.name, s.run, i+1, want.Kind)
		}
		if strings.Contains(f.data, "SECRET") || strings.Contains(f.data, "fp-1234") {
			t.Fatalf("event carries a body or key fingerprint: %s", f.data)
		}
		got, err := Decode(f.name, []byte(f.data))
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != want.Kind || got.Route != want.Route || got.Detail != want.Detail || got.Up != want.Up || got.Latency != want.Latency {
			t.Errorf("event %d decoded %+v, want %+v", i, got, want)
		}
		if want.Record != nil && (got.Record == nil || got.Record.Model != rec.Model || got.Record.Total != rec.Total || got.Record.Tokens != rec.Tokens) {
			t.Errorf("request decoded %+v", got.Record)
		}
	}
}

func TestStreamResumesAfterLastEventID(t *testing.T) {
	bus, s, url := serve(t, StreamOptions{})
	for i := range 10 {
		bus.Publish(Event{Kind: SettingsChanged, Detail: fmt.Sprint(i + 1)})
	}
	r := connect(t, url, s.run+"-7")
	for n := 8; n <= 10; n++ {
		if f := r.next(); f.id != fmt.Sprintf("%s-%d", s.run, n) {
			t.Fatalf("resumed frame %+v, want id %d", f, n)
		}
	}
	bus.Publish(Event{Kind: StateChanged, Detail: "running"})
	if f := r.next(); f.id != s.run+"-11" || f.name != string(StateChanged) {
		t.Fatalf("live frame after the replay %+v", f)
	}
}

func TestStreamGapWhenResumingTooFarBack(t *testing.T) {
	bus, s, url := serve(t, StreamOptions{Size: 4})
	for i := range 10 {
		bus.Publish(Event{Kind: SettingsChanged, Detail: fmt.Sprint(i + 1)})
	}
	r := connect(t, url, s.run+"-2")
	gap := r.next()
	if gap.name != string(Gap) || gap.id != s.run+"-6" || !strings.Contains(gap.data, `"missed":4`) {
		t.Fatalf("gap frame %+v, want missed 4 with id 6", gap)
	}
	for n := 7; n <= 10; n++ {
		if f := r.next(); f.id != fmt.Sprintf("%s-%d", s.run, n) {
			t.Fatalf("frame after the gap %+v, want id %d", f, n)
		}
	}
	// A reader resuming after the gap's id gets no second gap.
	r2 := connect(t, url, gap.id)
	if f := r2.next(); f.id != s.run+"-7" {
		t.Fatalf("resume after the gap: %+v", f)
	}
}

func TestStreamGapForAnotherRunsID(t *testing.T) {
	bus, s, url := serve(t, StreamOptions{})
	bus.Publish(Event{Kind: StateChanged, Detail: "paused"})
	r := connect(t, url, "otherrun-3")
	if f := r.next(); f.name != string(Gap) || !strings.Contains(f.data, `"missed":-1`) || f.id != s.run+"-1" {
		t.Fatalf("frame %+v, want a gap of unknown size", f)
	}
	bus.Publish(Event{Kind: StateChanged, Detail: "running"})
	if f := r.next(); f.id != s.run+"-2" {
		t.Fatalf("frame after the gap %+v", f)
	}
}

func TestStreamLaggingReaderSkipsToWhatIsKept(t *testing.T) {
	bus := &Bus{}
	s := NewStream(bus, StreamOptions{Size: 4})
	defer s.Close()
	for i := range 10 {
		bus.Publish(Event{Kind: SettingsChanged, Detail: fmt.Sprint(i)})
	}
	frames, skipped, _, _ := s.since(1)
	if skipped != 5 || len(frames) != 4 || frames[0].n != 7 || frames[3].n != 10 {
		t.Fatalf("since(1) = %d frames from %d, skipped %d; want 4 from 7, skipped 5", len(frames), frames[0].n, skipped)
	}
}

func TestStreamHeartbeat(t *testing.T) {
	_, _, url := serve(t, StreamOptions{Heartbeat: 20 * time.Millisecond})
	r := connect(t, url, "")
	if f := r.next(); f.comment != ": heartbeat" || f.name != "" {
		t.Fatalf("idle stream sent %+v, want a heartbeat comment", f)
	}
}

// A reader that stops reading never holds the publisher up, and is
// dropped once its socket stays full for WriteTimeout.
func TestStreamStalledReaderIsDroppedAndNeverBlocks(t *testing.T) {
	bus := &Bus{}
	s := NewStream(bus, StreamOptions{Size: 64, WriteTimeout: 200 * time.Millisecond})
	defer s.Close()
	ended := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(ended)
		s.ServeHTTP(w, r)
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	if _, err := br.ReadString('\n'); err != nil { // the status line: the handler runs
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4096)
	published := make(chan struct{}) // closed after 16384 events: 64 MB, far more than socket buffers hold
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Publishing goes on until the handler ended: events are encoded
		// only when the reader takes them, so a short burst is over
		// before the reader has filled its socket.
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			bus.Publish(Event{Kind: SettingsChanged, Detail: big})
			if i == 16384 {
				close(published)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case <-published:
	case <-ctx.Done():
		t.Fatal("Publish blocked on a reader that does not read")
	}
	select {
	case <-ended:
	case <-ctx.Done():
		t.Fatal("the stalled reader's handler never ended")
	}
}

func TestStreamCloseEndsReaders(t *testing.T) {
	bus, s, url := serve(t, StreamOptions{})
	r := connect(t, url, "")
	bus.Publish(Event{Kind: StateChanged, Detail: "paused"})
	s.Close()
	if f := r.next(); f.name != string(StateChanged) {
		t.Fatalf("frame %+v", f)
	}
	if r.sc.Scan() {
		t.Fatalf("stream still open after Close: %q", r.sc.Text())
	}
	bus.Publish(Event{Kind: StateChanged, Detail: "running"}) // no tap left: nothing happens
}

// BenchmarkPublishFinished is what each request pays to publish its
// RequestFinished event with the event stream tapping the bus and no
// reader connected (the desktop's windows closed, most of the day).
func BenchmarkPublishFinished(b *testing.B) {
	var bus Bus
	s := NewStream(&bus, StreamOptions{})
	defer s.Close()
	rec := &storage.Record{ID: 41, Time: time.Now(), Method: "POST", Path: "/v1/messages", Model: "claude-sonnet-4-5",
		Stream: true, Status: 200, Route: "Office SOCKS", Client: "claude-cli", RequestID: "req_011CFake0000000000001",
		KeyFingerprint: "3f9a", Tokens: storage.Tokens{Input: 4225, Output: 412, CacheRead: 30000},
		FirstByte: 300 * time.Millisecond, FirstToken: 812 * time.Millisecond, Total: 9 * time.Second,
		BytesIn: 85000, BytesOut: 9000, CostUSD: 0.0231, PriceKnown: true, PriceRow: "claude-sonnet-4-5@2025-09-29"}
	e := Event{Kind: RequestFinished, Record: rec}
	b.ReportAllocs()
	for b.Loop() {
		bus.Publish(e)
	}
}

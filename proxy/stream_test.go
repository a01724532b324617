package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// sseBody builds SSE frames.
func sseBody(frames ...[2]string) string {
	var b strings.Builder
	for _, f := range frames {
		b.WriteString("event: " + f[0] + "\ndata: " + f[1] + "\n\n")
	}
	return b.String()
}

func fr(event, format string, args ...any) [2]string {
	return [2]string{event, fmt.Sprintf(format, args...)}
}

func stopFrame(i int) string {
	return fmt.Sprintf("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%d}\n\n", i)
}

func TestStreamRepair(t *testing.T) {
	t.Parallel()
	head := sseBody(fr("message_start", msgStart), fr("content_block_start", blockStart, 0), fr("ping", `{"type": "ping"}`),
		fr("content_block_delta", textDelta, 0, "Hello 世界 🌍"))
	twoBlocks := sseBody(fr("message_start", msgStart), fr("content_block_start", blockStart, 0), fr("content_block_stop", blockStop, 0),
		fr("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get","input":{}}}`),
		fr("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\": "}}`))
	whole := head + sseBody(fr("content_block_stop", blockStop, 0), fr("message_delta", msgDelta), fr("message_stop", msgStop))

	tests := []struct {
		name string
		sent string // what the upstream sends before its end
		end  string // "abort" (connection cut) or "eof" (clean end)
		// added is what Ferry must append; "" means nothing.
		added     string
		errType   string
		class     storage.ErrorClass
		wantBreak bool // the client must see a broken body
		noError   bool // the repair has no error frame
	}{
		{name: "cut at a frame boundary", sent: head, end: "abort", added: stopFrame(0) + "event: error\n", errType: "api_error", class: storage.ClassNetwork},
		// A cut frame is ended as a ping (the last event: line wins, and
		// clients skip pings unparsed), never dispatched half-made.
		{name: "cut mid-line", sent: head + "event: content_block_delta\ndata: {\"type\":\"content_bl", end: "abort",
			added: "\nevent: ping\n\n" + stopFrame(0) + "event: error\n", errType: "api_error", class: storage.ClassNetwork},
		{name: "cut inside the event line", sent: head + "event: content_blo", end: "abort",
			added: "\nevent: ping\n\n" + stopFrame(0) + "event: error\n", errType: "api_error", class: storage.ClassNetwork},
		{name: "cut after a whole line", sent: head + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n", end: "abort",
			added: "event: ping\n\n" + stopFrame(0) + "event: error\n", errType: "api_error", class: storage.ClassNetwork},
		// A cut message_stop: the message was whole, so it gets a whole
		// message_stop and nothing else.
		{name: "cut message_stop", sent: head + sseBody(fr("content_block_stop", blockStop, 0), fr("message_delta", msgDelta)) + "event: message_stop\ndata: {\"ty", end: "abort",
			added: "\nevent: ping\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", noError: true},
		{name: "second block open", sent: twoBlocks, end: "abort", added: stopFrame(1) + "event: error\n", errType: "api_error", class: storage.ClassNetwork},
		{name: "clean end before message_stop", sent: head, end: "eof", added: stopFrame(0) + "event: error\n", errType: "api_error", class: storage.ClassNetwork},
		{name: "whole stream then cut", sent: whole, end: "abort"},
		{name: "whole stream", sent: whole, end: "eof"},
		{name: "mid-stream error frame passes untouched", sent: head + sseBody(fr("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)),
			end: "eof", errType: "overloaded_error", class: storage.ClassUpstream5xx},
		{name: "unknown events and comments pass", sent: ": hello\n\n" + sseBody(fr("message_start", msgStart), fr("future_event", `{"x":1}`)) + "data: no event line\r\n\r\n" +
			sseBody(fr("message_stop", msgStop)), end: "eof"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := startSSE(w)
				// Writes in pieces, splitting UTF-8 characters across reads.
				for b := []byte(tc.sent); len(b) > 0; {
					n := min(len(b), 7)
					s.raw(string(b[:n]))
					b = b[n:]
				}
				if tc.end == "abort" {
					panic(http.ErrAbortHandler)
				}
			}))
			defer up.Close()
			h := newHarness(t, up.URL, nil)
			req, _ := http.NewRequest("POST", h.url+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4-5","stream":true}`))
			req.Header.Set("X-Api-Key", clientKey)
			res, err := rawClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, rerr := io.ReadAll(res.Body)
			res.Body.Close()
			if rerr != nil {
				t.Fatalf("client read error %v: the repaired stream must end cleanly", rerr)
			}
			if !bytes.HasPrefix(got, []byte(tc.sent)) {
				t.Fatalf("client did not get the upstream's bytes first:\n%q", got)
			}
			added := string(got[len(tc.sent):])
			if !strings.HasPrefix(added, tc.added) || (tc.added == "") != (added == "") {
				t.Fatalf("Ferry added %q, want prefix %q", added, tc.added)
			}
			if tc.added != "" && !tc.noError {
				last := added[strings.LastIndex(added, "event: error\n"):]
				if !strings.HasSuffix(last, "\n\n") || !strings.Contains(last, `"type":"error","error":{"type":"`+tc.errType+`"`) || strings.Count(added, "event: error") != 1 {
					t.Errorf("error frame %q", last)
				}
			}
			rec := h.rec.next(t)
			if rec.Status != 200 || rec.ErrorType != tc.errType || rec.ErrorClass != tc.class || !rec.Stream || rec.BytesOut != int64(len(got)) {
				t.Errorf("record %+v", rec)
			}
			if o := h.lastObserver(); o.body.String() != string(got) || o.done != 1 || o.response != 1 {
				t.Errorf("observer saw %q done %d", o.body.String(), o.done)
			}
		})
	}
}

func TestBrokenBodyThatCannotBeRepaired(t *testing.T) {
	t.Parallel()
	head := sseBody(fr("message_start", msgStart), fr("content_block_start", blockStart, 0))
	tests := []struct {
		name string
		hdr  map[string]string
		body []byte
	}{
		{"gzip event stream", map[string]string{"Content-Type": "text/event-stream", "Content-Encoding": "gzip"}, gzipped(t, head)[:40]},
		{"json", map[string]string{"Content-Type": "application/json"}, []byte(`{"id":"msg_1","content":[{"type":"te`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.hdr {
					w.Header().Set(k, v)
				}
				w.Write(tc.body)
				w.(http.Flusher).Flush()
				panic(http.ErrAbortHandler)
			}))
			defer up.Close()
			h := newHarness(t, up.URL, nil)
			req, _ := http.NewRequest("POST", h.url+"/v1/messages", strings.NewReader(`{"model":"m"}`))
			req.Header.Set("X-Api-Key", clientKey)
			req.Header.Set("Accept-Encoding", "gzip")
			res, err := rawClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, rerr := io.ReadAll(res.Body)
			res.Body.Close()
			if rerr == nil {
				t.Errorf("client read the cut body as whole: %q", got)
			}
			if !bytes.Equal(got, tc.body) {
				t.Errorf("client got %q, want the upstream's bytes unchanged %q", got, tc.body)
			}
			rec := h.rec.next(t)
			if rec.ErrorClass != storage.ClassNetwork || rec.ErrorType != "api_error" {
				t.Errorf("record %+v", rec)
			}
		})
	}
}

func TestFirstByteTimeout(t *testing.T) {
	t.Parallel()
	cancelled := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server watches the connection only once the body is read
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(20 * time.Second):
		}
	}))
	defer up.Close()
	h := newHarness(t, up.URL, func(o *Options) { o.FirstByteTimeout = 300 * time.Millisecond })
	res, body := h.do(t, "POST", "/v1/messages", []byte(`{"model":"m"}`), keyHeader(clientKey))
	if res.StatusCode != 504 || res.Header.Get("X-Ferry-Error") != "1" || !strings.Contains(string(body), `"timeout_error"`) || !strings.Contains(string(body), "first-byte-timeout") {
		t.Errorf("status %d body %s", res.StatusCode, body)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Error("the upstream request was not cancelled")
	}
	if rec := h.rec.next(t); rec.Status != 504 || rec.ErrorType != "timeout_error" || rec.ErrorClass != storage.ClassNetwork {
		t.Errorf("record %+v", rec)
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	t.Parallel()
	cancelled := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := startSSE(w)
		s.frame("message_start", msgStart)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(30 * time.Second):
		}
	}))
	defer up.Close()
	h := newHarness(t, up.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.url+"/v1/messages", strings.NewReader(`{"model":"m","stream":true}`))
	req.Header.Set("X-Api-Key", clientKey)
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(res.Body).ReadString('\n')
	if line != "event: message_start\n" {
		t.Fatalf("first line %q", line)
	}
	cancel()
	res.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream did not see the cancellation")
	}
	if rec := h.rec.next(t); rec.Status != StatusClientClosed || rec.ErrorClass != storage.ClassClient4xx {
		t.Errorf("record %+v", rec)
	}
}

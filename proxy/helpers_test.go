package proxy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// memRecorder keeps records in memory.
type memRecorder struct {
	mu   sync.Mutex
	recs []storage.Record
	ch   chan storage.Record
}

func newMemRecorder() *memRecorder { return &memRecorder{ch: make(chan storage.Record, 10000)} }

func (m *memRecorder) Record(rec storage.Record) {
	m.mu.Lock()
	m.recs = append(m.recs, rec)
	m.mu.Unlock()
	select {
	case m.ch <- rec:
	default:
	}
}

// next waits for the next record.
func (m *memRecorder) next(t *testing.T) storage.Record {
	t.Helper()
	select {
	case rec := <-m.ch:
		return rec
	case <-time.After(30 * time.Second):
		t.Fatal("no record")
		return storage.Record{}
	}
}

func (m *memRecorder) all() []storage.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]storage.Record(nil), m.recs...)
}

// testObserver records what the proxy tells an Observer.
type testObserver struct {
	mu       sync.Mutex
	status   int
	header   http.Header
	body     bytes.Buffer
	reqBody  []byte
	done     int
	response int
}

func (o *testObserver) Response(status int, h http.Header) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status, o.header = status, h
	o.response++
}
func (o *testObserver) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.body.Write(p)
}
func (o *testObserver) Done(rec *storage.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done++
}

type staticKeys struct{ token, key string }

func (k staticKeys) LocalToken() string { return k.token }
func (k staticKeys) APIKey() string     { return k.key }

const (
	testToken = "sk-ferry-0123456789abcdef0123456789abcdef"
	testKey   = "sk-ant-api03-REALKEY-abcdefghijklmnop"
	clientKey = "sk-ant-api03-CLIENTKEY-qrstuvwxyz"
)

// harness is a Ferry handler served on a loopback port in front of an
// upstream.
type harness struct {
	p     *Proxy
	srv   *httptest.Server
	url   string
	rec   *memRecorder
	bus   *events.Bus
	logs  *testsupport.SyncBuffer
	obsMu sync.Mutex
	obs   []*testObserver
}

// newHarness builds a Proxy forwarding to upstream (a base URL) with opts
// adjusted by mod.
func newHarness(t testing.TB, upstream string, mod func(*Options)) *harness {
	t.Helper()
	base, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{rec: newMemRecorder(), bus: &events.Bus{}, logs: &testsupport.SyncBuffer{}}
	o := Options{
		APIBase:    base,
		Keys:       staticKeys{token: testToken, key: testKey},
		AdminToken: func() string { return "admin-secret" },
		Recorder:   h.rec,
		Bus:        h.bus,
		Logger:     slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:    "test",
		Observe: func(r *http.Request, body []byte, start time.Time) Observer {
			o := &testObserver{reqBody: body}
			h.obsMu.Lock()
			h.obs = append(h.obs, o)
			h.obsMu.Unlock()
			return o
		},
	}
	if mod != nil {
		mod(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	h.srv = httptest.NewServer(p)
	t.Cleanup(h.srv.Close)
	h.url = h.srv.URL
	return h
}

func (h *harness) lastObserver() *testObserver {
	h.obsMu.Lock()
	defer h.obsMu.Unlock()
	if len(h.obs) == 0 {
		return nil
	}
	return h.obs[len(h.obs)-1]
}

// client is an HTTP/1.1 client that never decompresses, so tests see the
// bytes Ferry sent.
func rawClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 100}}
}

// do sends a request to Ferry and returns the response with its body read.
func (h *harness) do(t testing.TB, method, path string, body []byte, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, h.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = nil
		req.ContentLength = 0
	}
	for k, vv := range hdr {
		req.Header[k] = vv
	}
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v (got %d bytes)", err, len(b))
	}
	return res, b
}

func keyHeader(k string) http.Header { return http.Header{"X-Api-Key": {k}} }

// directChooser is a fixed direct route with the given dial options.
func directChooser(t testing.TB, o route.DialOptions) route.Chooser {
	t.Helper()
	up, err := route.NewUpstream(route.Route{Name: "Direct", URL: "direct"}, o)
	if err != nil {
		t.Fatal(err)
	}
	return route.NewFixed(up)
}

// sseWriter writes SSE frames with a flush after each.
type sseWriter struct {
	w http.ResponseWriter
}

func startSSE(w http.ResponseWriter) sseWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Request-Id", "req_test")
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	return sseWriter{w}
}

func (s sseWriter) frame(event, data string) {
	io.WriteString(s.w, "event: "+event+"\ndata: "+data+"\n\n")
	s.w.(http.Flusher).Flush()
}

func (s sseWriter) raw(b string) {
	io.WriteString(s.w, b)
	s.w.(http.Flusher).Flush()
}

const (
	msgStart   = `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}`
	blockStart = `{"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}`
	textDelta  = `{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":"%s"}}`
	blockStop  = `{"type":"content_block_stop","index":%d}`
	msgDelta   = `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`
	msgStop    = `{"type":"message_stop"}`
)

type contextT = context.Context

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

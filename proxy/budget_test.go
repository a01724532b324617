package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// stalledUpload opens a connection, declares a body of declared bytes,
// sends sent of them and stops.
func stalledUpload(t *testing.T, addr string, declared, sent int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", clientKey, declared)
	if _, err := c.Write([]byte(strings.Repeat(" ", sent))); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitBuffered waits until the proxy holds at least n buffered bytes.
func waitBuffered(t *testing.T, n int64) {
	t.Helper()
	for i := 0; ; i++ {
		if used, _ := BufferedBytes(); used >= n {
			return
		}
		if i > 2000 {
			used, _ := BufferedBytes()
			t.Fatalf("buffered %d bytes, waited for %d", used, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Issue 14: 16 connections each declaring 32 MB − 1 byte and stalling
// held 550 MB, allocated from Content-Length before a byte arrived. The
// buffer now grows with what arrives.
func TestStalledUploadsHoldWhatTheySent(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, nil)
	url, _, _ := serve(t, h.p)
	addr := strings.TrimPrefix(url, "http://")

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	base, _ := BufferedBytes()
	var conns []net.Conn
	for i := 0; i < 16; i++ {
		conns = append(conns, stalledUpload(t, addr, DefaultMaxBody-1, 10))
	}
	waitBuffered(t, base+16*firstBodyBuf)
	used, _ := BufferedBytes()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	for _, c := range conns {
		c.Close()
	}
	if held := used - base; held > 16*firstBodyBuf {
		t.Errorf("16 stalled uploads hold %d buffered bytes, want at most %d", held, 16*firstBodyBuf)
	}
	// The heap grew by far less than the 16 × 32 MB declared.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 64<<20 {
		t.Errorf("heap grew by %d MB for 16 stalled uploads", grew>>20)
	}
}

// Past the buffer budget a request gets 529 overloaded_error with
// retry-after: 1; the budget comes back when requests end.
func TestBufferBudgetAnswers529(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, nil)
	url, _, _ := serve(t, h.p)
	addr := strings.TrimPrefix(url, "http://")

	// Requests of earlier tests give their bytes back when their
	// handlers end: start from an empty budget.
	for i := 0; ; i++ {
		if used, _ := BufferedBytes(); used == 0 {
			break
		}
		if i > 2000 {
			t.Fatal("earlier requests never gave their buffered bytes back")
		}
		time.Sleep(5 * time.Millisecond)
	}
	old := bufferBudget.limit.Load()
	used := int64(0)
	bufferBudget.limit.Store(used + 1<<20)
	defer bufferBudget.limit.Store(old)

	hog := stalledUpload(t, addr, 4<<20, 900<<10)
	waitBuffered(t, used+firstBodyBuf)
	body := `{"model":"m","pad":"` + strings.Repeat("x", 600<<10) + `"}`
	req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(body))
	req.Header.Set("X-Api-Key", clientKey)
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != StatusOverloaded || res.Header.Get("Retry-After") != "1" || !strings.Contains(string(b), "overloaded_error") {
		t.Fatalf("over the budget: %d retry-after=%q %s", res.StatusCode, res.Header.Get("Retry-After"), b)
	}
	hog.Close()
	for i := 0; ; i++ {
		req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(body))
		req.Header.Set("X-Api-Key", clientKey)
		res, err := rawClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			break
		}
		if i > 400 {
			t.Fatalf("budget never came back: %d", res.StatusCode)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The request-body timeout is an idle timeout: an upload that keeps
// moving may take longer than it in total. It was a total deadline.
func TestBodyIdleTimeoutResetsOnEveryRead(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	const idle = time.Second
	h := newHarness(t, fake.URL, func(o *Options) { o.IdleTimeout = idle })
	url, _, _ := serve(t, h.p)
	pr, pw := io.Pipe()
	go func() {
		// 8 pieces, 200 ms apart: 1.6 s in all, never 1 s of silence.
		io.WriteString(pw, `{"model":"m","pad":"`)
		for i := 0; i < 8; i++ {
			time.Sleep(idle / 5)
			io.WriteString(pw, "xxxx")
		}
		io.WriteString(pw, `"}`)
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", url+"/v1/messages", pr)
	req.Header.Set("X-Api-Key", clientKey)
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a slow but moving upload: %d %s", res.StatusCode, b)
	}
}

// BenchmarkReadBody compares readBody (growing with what arrives, under
// the budget) with the allocation from Content-Length it replaced, on a
// Claude Code-sized body, in the same run:
//
//	go test -run '^$' -bench ReadBody -benchmem ./proxy/
func BenchmarkReadBody(b *testing.B) {
	for _, size := range []int{4 << 10, 300 << 10, 4 << 20} {
		body := []byte(strings.Repeat("x", size))
		b.Run(fmt.Sprintf("grow/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				ctx, cancel := context.WithCancel(context.Background())
				r := httptest.NewRequestWithContext(ctx, "POST", "/v1/messages", bytes.NewReader(body))
				w := httptest.NewRecorder()
				if _, err := readBody(w, r, DefaultMaxBody, time.Minute); err != nil {
					b.Fatal(err)
				}
				cancel() // gives the budget back, as the request's end does
			}
		})
		b.Run(fmt.Sprintf("from-content-length/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				r := httptest.NewRequest("POST", "/v1/messages", bytes.NewReader(body))
				buf := make([]byte, r.ContentLength)
				if _, err := io.ReadFull(r.Body, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

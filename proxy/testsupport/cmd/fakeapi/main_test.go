package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

func TestBody(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-body", "large;frames=10"}, &out, &errs, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	want, _ := testsupport.Body("large;frames=10")
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatal("-body printed something else")
	}
	if code := run([]string{"-body", "nope"}, &out, &errs, nil); code != 2 {
		t.Fatalf("unknown scenario: exit %d", code)
	}
	if code := run([]string{"-gzip", "sometimes"}, &out, &errs, nil); code != 2 {
		t.Fatalf("bad -gzip: exit %d", code)
	}
}

// syncWriter lets the test read what run prints while it runs.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	out := &syncWriter{}
	stop := make(chan os.Signal)
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"-listen", "127.0.0.1:0", "-tls", "-cert-dir", dir, "-gzip", "accepted"}, out, io.Discard, stop)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "\n") {
		if time.Now().After(deadline) {
			t.Fatal("no start line")
		}
		time.Sleep(10 * time.Millisecond)
	}
	fields := strings.Fields(out.String())
	if len(fields) != 3 || fields[0] != "fakeapi" || !strings.HasPrefix(fields[1], "https://127.0.0.1:") {
		t.Fatalf("start line %q", out.String())
	}
	pem, err := os.ReadFile(fields[2])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, DisableCompression: true}}
	req, _ := http.NewRequest(http.MethodPost, fields[1]+"/v1/messages", strings.NewReader(`{"stream":true}`))
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _ := testsupport.GzipBody(testsupport.ScenarioStream)
	if resp.Proto != "HTTP/2.0" || resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(b, want) {
		t.Fatalf("%s %v", resp.Proto, resp.Header)
	}
	close(stop)
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}

package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

// chunked yields s in reads of the given sizes, cycling.
type chunked struct {
	s     []byte
	sizes []int
	i     int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.s) == 0 {
		return 0, io.EOF
	}
	n := min(c.sizes[c.i%len(c.sizes)], len(c.s), len(p))
	c.i++
	copy(p, c.s[:n])
	c.s = c.s[n:]
	return n, nil
}

func TestRedactKeyBodySplitAcrossReads(t *testing.T) {
	key := testKey
	frames := "event: error\ndata: {\"type\":\"error\",\"error\":{\"message\":\"bad key " + key + "\"}}\n\n" +
		"data: " + key + key + "\n\n" + "tail " + key[:10]
	for _, sizes := range [][]int{{1}, {3, 7}, {len(key) - 1}, {len(key)}, {len(key) + 1}, {4096}} {
		rc := RedactKeyBody(io.NopCloser(&chunked{s: []byte(frames), sizes: sizes}), key)
		got, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(got, []byte(key)) {
			t.Errorf("reads of %v: the key got through: %s", sizes, got)
		}
		if len(got) != len(frames) {
			t.Errorf("reads of %v: length %d, want %d (Content-Length must hold)", sizes, len(got), len(frames))
		}
		if !strings.HasSuffix(string(got), "tail "+key[:10]) {
			t.Errorf("reads of %v: a partial key at EOF (not the key) was changed: %q", sizes, got[len(got)-20:])
		}
		if !strings.Contains(string(got), "\n\n") || !strings.HasPrefix(string(got), "event: error\n") {
			t.Errorf("framing changed: %q", got)
		}
	}
}

// A stream's frame is handed on as soon as it is read: only bytes that
// could begin the key wait for the next read.
func TestRedactKeyBodyDoesNotHoldFrames(t *testing.T) {
	pr, pw := io.Pipe()
	rc := RedactKeyBody(pr, testKey)
	go pw.Write([]byte("data: {\"type\":\"ping\"}\n\n"))
	buf := make([]byte, 1024)
	n, err := rc.Read(buf)
	if err != nil || string(buf[:n]) != "data: {\"type\":\"ping\"}\n\n" {
		t.Fatalf("first read: %q %v", buf[:n], err)
	}
	pw.Close()
}

func TestRedactKeyBodyPassesErrors(t *testing.T) {
	rc := RedactKeyBody(io.NopCloser(iotest.TimeoutReader(strings.NewReader(strings.Repeat("x", 10000)))), testKey)
	if _, err := io.ReadAll(rc); err != iotest.ErrTimeout {
		t.Fatalf("err %v, want the source's", err)
	}
	if RedactKeyBody(nil, testKey) != nil {
		t.Fatal("nil body not kept nil")
	}
}

func TestRedactKeyHeader(t *testing.T) {
	h := http.Header{"X-Echo": {"your key was " + testKey}, "Request-Id": {"req_1"}}
	RedactKeyHeader(h, testKey)
	if strings.Contains(h.Get("X-Echo"), testKey) || h.Get("Request-Id") != "req_1" || len(h.Get("X-Echo")) != len("your key was ")+len(testKey) {
		t.Fatalf("%v", h)
	}
}

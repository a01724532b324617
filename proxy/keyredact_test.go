package proxy

import (
	"bytes"
	"io"
	"math/rand/v2"
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

// The redactor, whatever the read sizes on either side, gives exactly
// bytes.ReplaceAll of the whole body, and its end with the last bytes.
func TestRedactKeyBodyRandomSplits(t *testing.T) {
	key := "sk-ant-api03-s3cr3t-key"
	repl := string(keyReplacement(len(key)))
	r := rand.New(rand.NewPCG(7, 11))
	pieces := []string{key, key[:1], key[:5], key[:len(key)-1], key[3:], "s", "ss", "data: x\n\n", "k-ant"}
	for range 3000 {
		var body strings.Builder
		for range r.IntN(12) {
			body.WriteString(pieces[r.IntN(len(pieces))])
		}
		src := &chunked{s: []byte(body.String()), sizes: []int{1 + r.IntN(40), 1 + r.IntN(40), 1 + r.IntN(200)}}
		rd := RedactKeyBody(io.NopCloser(src), key)
		var out []byte
		p := make([]byte, 1+r.IntN(64))
		for {
			n, err := rd.Read(p)
			out = append(out, p[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if want := strings.ReplaceAll(body.String(), key, repl); string(out) != want {
			t.Fatalf("body %q:\n got %q\nwant %q", body.String(), out, want)
		}
	}
}

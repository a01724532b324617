package filter_test

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/filter"
)

// BenchmarkTTFT measures the time to the first text frame of a streamed
// answer through a real proxy core, with a 200 KB Claude Code-shaped
// request: filters off, the default (secrets: requests redacted, answers
// flagged) and answers redacted too (frames held back up to the longest
// match). The three run interleaved in one process, so the machine's
// load falls on each alike; compare their p50s.
func BenchmarkTTFT(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n"+
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
		fl.Flush()
		for i := range 40 {
			io.WriteString(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Here is a line of the answer, number "+strings.Repeat("x", i%7)+".\\n\"}}\n\n")
			fl.Flush()
		}
		io.WriteString(w, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"+
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":400}}\n\n"+
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	}))
	defer up.Close()
	base, _ := url.Parse(up.URL)
	ferry := func(stages []proxy.Stage) *httptest.Server {
		p, err := proxy.New(proxy.Options{APIBase: base, Logger: slog.New(slog.DiscardHandler), Stages: stages})
		if err != nil {
			b.Fatal(err)
		}
		return httptest.NewServer(p)
	}
	mgr := func(answers filter.Action) *filter.Manager {
		m, err := filter.NewManager(&memStore{}, []byte("k"))
		if err != nil {
			b.Fatal(err)
		}
		if answers != "" {
			m.SetMode(filter.SecretsList, "", answers)
		}
		return m
	}
	targets := []struct {
		name string
		srv  *httptest.Server
		ts   []time.Duration
	}{
		{name: "off", srv: ferry(nil)},
		{name: "requests-only", srv: ferry([]proxy.Stage{mgr(filter.Off).Stage(filter.StageOptions{})})},
		{name: "default", srv: ferry([]proxy.Stage{mgr("").Stage(filter.StageOptions{})})},
		{name: "answers-redacted", srv: ferry([]proxy.Stage{mgr(filter.Redact).Stage(filter.StageOptions{})})},
	}
	for i := range targets {
		defer targets[i].srv.Close()
	}
	var hist []string
	for len(strings.Join(hist, ",")) < 195_000 {
		hist = append(hist, `{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":`+
			`"func handle(w http.ResponseWriter, r *http.Request) {\n\ttoken := r.Header.Get(\"Authorization\")\n\tlog.Printf(\"%s\", token[:4])\n}\n"}]}`)
	}
	body := `{"model":"m","max_tokens":64,"stream":true,"messages":[` + strings.Join(hist, ",") + `]}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	ttft := func(url string) time.Duration {
		req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(body))
		req.Header.Set("x-api-key", "sk-ant-api03-x")
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		var d time.Duration
		for {
			line, err := br.ReadString('\n')
			if d == 0 && strings.HasPrefix(line, "event: content_block_delta") {
				d = time.Since(t0)
			}
			if err != nil {
				break
			}
		}
		return d
	}
	for b.Loop() {
		for i := range targets {
			targets[i].ts = append(targets[i].ts, ttft(targets[i].srv.URL))
		}
	}
	for _, t := range targets {
		slices.Sort(t.ts)
		b.ReportMetric(float64(t.ts[len(t.ts)/2].Microseconds()), t.name+"-p50-µs")
	}
}

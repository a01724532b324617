package main

// The client: one streamed request read frame by frame, with the times the
// tables need.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

var client = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, DisableCompression: true}}

const streamBody = `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`

// result is one streamed request as the client saw it.
type result struct {
	status   int
	err      error
	ttft     time.Duration // to the first content_block_delta
	frames   []frame
	gapEnd   time.Duration // the longest silence between two reads
	complete bool          // message_stop seen
	errType  string        // the error frame's type, "" if none
}

type frame struct {
	event string
	data  string
	at    time.Time
}

// stream sends one streaming request to base with scenario and reads it
// whole, frame by frame.
func stream(base, scenario string) result {
	req, _ := http.NewRequest("POST", base+"/v1/messages", strings.NewReader(streamBody))
	req.Header.Set("X-Api-Key", "sk-ant-api03-roadbench")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(testsupport.ScenarioHeader, scenario)
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer res.Body.Close()
	out := result{status: res.StatusCode}
	if res.StatusCode != 200 {
		io.Copy(io.Discard, res.Body)
		return out
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur frame
	last := time.Now()
	for sc.Scan() {
		now := time.Now()
		out.gapEnd = max(out.gapEnd, now.Sub(last))
		last = now
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			cur.data += line[len("data: "):]
		case line == "":
			if cur.event != "" || cur.data != "" {
				cur.at = now
				out.frames = append(out.frames, cur)
				switch cur.event {
				case "content_block_delta":
					if out.ttft == 0 {
						out.ttft = now.Sub(start)
					}
				case "message_stop":
					out.complete = true
				case "error":
					var e struct {
						Error struct{ Type string } `json:"error"`
					}
					json.Unmarshal([]byte(cur.data), &e)
					out.errType = e.Error.Type
				}
			}
			cur = frame{}
		}
	}
	out.err = sc.Err()
	return out
}

// parses reports whether every frame an SDK parses (all but ping) has
// valid JSON data: the repair never leaves half a frame to parse.
func (r result) parses() bool {
	for _, f := range r.frames {
		if f.event != "ping" && !json.Valid([]byte(f.data)) {
			return false
		}
	}
	return true
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)) }

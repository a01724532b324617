package testsupport

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Scenario names, chosen per request with the header
//
//	x-fake-scenario: NAME[;key=value...]
//
// e.g. "slow;gap=1.5s;total=20s" or "large;frames=5000". Parameters every
// scenario takes: model=ID (the model named in the response), delay=DURATION
// (silence before the response headers, for first-byte timeouts; the fake
// notices the client leaving meanwhile), gzip=accepted|always|never
// (overrides the fake's GzipMode).
const (
	// Non-streaming message with text and full usage (cache 5m/1h, cache
	// read, service_tier).
	ScenarioMessage = "message"
	// Streaming text: message_start with usage, content_block_start, pings,
	// text deltas, content_block_stop, message_delta with cumulative usage,
	// message_stop.
	ScenarioStream = "stream"
	// Streaming text then a tool_use block filled by input_json_delta.
	ScenarioToolUse = "tool_use"
	// Streaming thinking block (thinking_delta, signature_delta) then text;
	// message_delta usage has null fields.
	ScenarioThinking = "thinking"
	// Streaming Chinese text and emoji, each frame written in pieces cut
	// inside a UTF-8 character, flushed separately with split_gap (default
	// 10ms) between pieces so they arrive in separate reads.
	ScenarioUTF8Split = "utf8_split"
	// Streaming text with an event type the API does not have yet and an SSE
	// comment block, both of which a proxy must pass through.
	ScenarioUnknownEvent = "unknown_event"
	// A 200 stream that, after one delta, sends an error frame
	// (overloaded_error) and ends.
	ScenarioStreamError = "stream_error"
	// Stream cut (connection dropped, no terminator) right after
	// message_start.
	ScenarioCutAfterStart = "cut_after_start"
	// Stream cut after message_start, a block start and three deltas.
	ScenarioCutMidStream = "cut_mid_stream"
	// Stream cut inside the data: line of a text delta, half its JSON
	// sent (a tunnel dying mid-frame).
	ScenarioCutInData = "cut_in_data"
	// Slow stream: a delta after every gap (default 1.5s) of silence, as many
	// as it takes to last at least total (default 20s), then a normal end.
	ScenarioSlow = "slow"
	// One silent gap (default 3s) in the middle of a stream.
	ScenarioLongGap = "long_gap"
	// A long stream of frames (default 1000) text deltas, for load tests.
	ScenarioLarge = "large"
	// 429 rate_limit_error with retry-after (retry=SECONDS, default 7) and
	// exhausted anthropic-ratelimit-* headers.
	ScenarioRateLimited = "rate_limited"
	// 429 for a spent workspace limit: rate_limit_error with retry-after
	// (retry=SECONDS, default 7), a usage-limit message and
	// error.details.error_code enforced_spend_limit_reached. Waiting
	// seconds never cures it: it must not be retried.
	ScenarioSpendLimited = "spend_limited"
	// 529 overloaded_error.
	ScenarioOverloaded = "overloaded"
	// Any API error: status=N (default 500) with its documented error type.
	ScenarioError = "error"
	// {"input_tokens": CountTokens(body)}.
	ScenarioCountTokens = "count_tokens"
	// GET /v1/models (paginated with limit, after_id, before_id) and
	// GET /v1/models/{id}.
	ScenarioModels = "models"
	// OpenAI-format /v1/chat/completions response with usage.
	ScenarioOpenAI = "openai"
	// OpenAI-format streamed chat completion ending with a usage chunk and
	// "data: [DONE]".
	ScenarioOpenAIStream = "openai_stream"
	// Answers what it received: method, path, body length and SHA-256.
	ScenarioEcho = "echo"
)

// Scenarios lists every scenario name.
var Scenarios = []string{
	ScenarioMessage, ScenarioStream, ScenarioToolUse, ScenarioThinking, ScenarioUTF8Split,
	ScenarioUnknownEvent, ScenarioStreamError, ScenarioCutAfterStart, ScenarioCutMidStream, ScenarioCutInData,
	ScenarioSlow, ScenarioLongGap, ScenarioLarge, ScenarioRateLimited, ScenarioSpendLimited, ScenarioOverloaded,
	ScenarioError, ScenarioCountTokens, ScenarioModels, ScenarioOpenAI, ScenarioOpenAIStream,
	ScenarioEcho,
}

// DefaultModel is the model the canned responses name unless model= is given.
const DefaultModel = "claude-sonnet-4-5-20250929"

// Usage is the final usage a correct meter computes from a scenario's
// response: for streams, message_start's usage with the last message_delta's
// non-null fields laid over it; for a broken stream, what message_start gave.
type Usage struct {
	InputTokens              int
	OutputTokens             int
	CacheCreationInputTokens int // = CacheCreation5m + CacheCreation1h
	CacheReadInputTokens     int
	CacheCreation5m          int
	CacheCreation1h          int
	ServiceTier              string // "" when the response has none
	InferenceGeo             string // usage.inference_geo, "" when absent
	Speed                    string // usage.speed, "" when absent
}

// GzipMode says when the fake gzips its response bodies.
type GzipMode int

const (
	GzipNever    GzipMode = iota // identity always (the default)
	GzipAccepted                 // gzip when the request's Accept-Encoding allows it
	GzipAlways                   // gzip even when the client did not ask (a misbehaving upstream)
)

// spec is a parsed scenario string.
type spec struct {
	name     string
	model    string
	gap      time.Duration
	total    time.Duration
	delay    time.Duration
	splitGap time.Duration
	frames   int
	status   int
	retry    int
	gzip     *GzipMode
}

func parseScenario(s string) (spec, error) {
	parts := strings.Split(s, ";")
	sp := spec{
		name:     strings.TrimSpace(parts[0]),
		model:    DefaultModel,
		splitGap: 10 * time.Millisecond,
		frames:   1000,
		status:   500,
		retry:    7,
	}
	switch sp.name {
	case ScenarioSlow:
		sp.gap, sp.total = 1500*time.Millisecond, 20*time.Second
	case ScenarioLongGap:
		sp.gap = 3 * time.Second
	case ScenarioRateLimited, ScenarioSpendLimited:
		sp.status = http.StatusTooManyRequests
	case ScenarioOverloaded:
		sp.status = 529
	}
	known := false
	for _, n := range Scenarios {
		known = known || n == sp.name
	}
	if !known {
		return sp, fmt.Errorf("%w: %q", ErrUnknownScenario, sp.name)
	}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		var err error
		switch k {
		case "model":
			sp.model = v
		case "gap":
			sp.gap, err = time.ParseDuration(v)
		case "total":
			sp.total, err = time.ParseDuration(v)
		case "delay":
			sp.delay, err = time.ParseDuration(v)
		case "split_gap":
			sp.splitGap, err = time.ParseDuration(v)
		case "frames":
			sp.frames, err = strconv.Atoi(v)
		case "status":
			sp.status, err = strconv.Atoi(v)
		case "retry":
			sp.retry, err = strconv.Atoi(v)
		case "gzip":
			var m GzipMode
			switch v {
			case "accepted":
				m = GzipAccepted
			case "always":
				m = GzipAlways
			case "never":
				m = GzipNever
			default:
				err = fmt.Errorf("want accepted, always or never")
			}
			sp.gzip = &m
		case "":
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			return sp, fmt.Errorf("%w: %q in scenario %q: %v", ErrBadParam, p, s, err)
		}
	}
	if sp.name == ScenarioRateLimited {
		sp.status = http.StatusTooManyRequests
	}
	if sp.name == ScenarioOverloaded {
		sp.status = 529
	}
	if _, ok := errorTypes[sp.status]; sp.name == ScenarioError && !ok {
		return sp, fmt.Errorf("%w: status=%d has no documented error type", ErrBadParam, sp.status)
	}
	return sp, nil
}

var (
	usageCached = Usage{InputTokens: 25, CacheCreationInputTokens: 1200, CacheCreation5m: 1000, CacheCreation1h: 200,
		CacheReadInputTokens: 3000, ServiceTier: "standard", InferenceGeo: "us", Speed: "standard"}
	usagePlain = Usage{InputTokens: 25, ServiceTier: "standard"}
)

// UTF-8 split texts: every piece boundary below falls inside a character.
var utf8Texts = []string{"你好，世界！", "渡轮🚢载着字节⛴️过河。", "表情🧑‍💻结束"}

func withOutput(u Usage, out int) *Usage {
	u.OutputTokens = out
	return &u
}

// buildPlan makes a scenario's response; ri is nil when asked for the
// expected body outside a request.
func buildPlan(sp spec, ri *reqInfo) plan {
	p := plan{status: 200, contentType: "text/event-stream; charset=utf-8", stream: true}
	b := &streamBuilder{sp: sp}
	jsonBody := func(status int, s string) {
		p.status, p.contentType, p.stream = status, "application/json", false
		b.raw(0, s)
	}
	id := "msg_fake_" + sp.name
	switch sp.name {
	case ScenarioMessage:
		u := usageCached
		jsonBody(200, `{"id":`+js(id)+`,"type":"message","role":"assistant","model":`+js(sp.model)+
			`,"content":[{"type":"text","text":"Hello! Ferry carried this message across."}],"stop_reason":"end_turn","stop_sequence":null,"usage":`+
			strings.TrimSuffix(usageJSON(u, 42), "}")+`,"server_tool_use":{"web_search_requests":0}}}`)
		p.usage = withOutput(u, 42)
	case ScenarioStream:
		u := usageCached
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		b.ping()
		for _, w := range []string{"Hello", "! Ferry", " carried", " this", " stream."} {
			b.text(0, w)
		}
		b.ping()
		b.blockStop(0)
		b.end("end_turn", cumulative(u, 15))
		p.usage = withOutput(u, 15)
	case ScenarioToolUse:
		u := Usage{InputTokens: 410, ServiceTier: "standard"}
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		b.ping()
		b.text(0, "I'll check the weather in San Francisco.")
		b.blockStop(0)
		b.blockStart(1, `{"type":"tool_use","id":"toolu_fake_01","name":"get_weather","input":{}}`)
		for _, part := range []string{"", `{"location": "San Fra`, `ncisco, CA", "unit": "c`, `elsius"}`} {
			b.delta(1, "input_json_delta", "partial_json", part)
		}
		b.blockStop(1)
		b.end("tool_use", outputOnly(60))
		p.usage = withOutput(u, 60)
	case ScenarioThinking:
		u := Usage{InputTokens: 52, CacheCreationInputTokens: 2048, CacheCreation1h: 2048, ServiceTier: "standard"}
		b.start(id, u)
		b.blockStart(0, `{"type":"thinking","thinking":"","signature":""}`)
		b.ping()
		b.delta(0, "thinking_delta", "thinking", "The user wants a river crossing. ")
		b.delta(0, "thinking_delta", "thinking", "A ferry carries bytes unchanged.")
		b.delta(0, "signature_delta", "signature", "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds/fake/signature+AbCdEf==")
		b.blockStop(0)
		b.blockStart(1, `{"type":"text","text":""}`)
		b.text(1, "A ferry carries you across.")
		b.blockStop(1)
		b.end("end_turn", `{"input_tokens":null,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":120}`)
		p.usage = withOutput(u, 120)
	case ScenarioUTF8Split:
		u := Usage{InputTokens: 30, ServiceTier: "standard"}
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		for _, t := range utf8Texts {
			f := "event: content_block_delta\ndata: " + textDelta(0, t) + "\n\n"
			points := utf8Cuts(f)
			prev := 0
			for _, c := range points {
				b.raw(sp.splitGap, f[prev:c])
				prev = c
			}
			b.raw(sp.splitGap, f[prev:])
		}
		b.blockStop(0)
		b.end("end_turn", cumulative(u, 20))
		p.usage = withOutput(u, 20)
	case ScenarioUnknownEvent:
		u := usagePlain
		b.start(id, u)
		b.frame("brand_new_event", `{"type":"brand_new_event","detail":{"note":"a future event type"}}`)
		b.blockStart(0, `{"type":"text","text":""}`)
		b.raw(0, ": a comment line the API might send one day\n\n")
		b.text(0, "Unknown events pass through.")
		b.frame("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"brand_new_delta","payload":[1,2,3]}}`)
		b.blockStop(0)
		b.end("end_turn", cumulative(u, 9))
		p.usage = withOutput(u, 9)
	case ScenarioStreamError:
		u := usagePlain
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		b.text(0, "Starting to answer")
		b.frame("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
		p.usage = withOutput(u, 1)
	case ScenarioCutAfterStart:
		u := usageCached
		b.start(id, u)
		p.cut = true
		p.usage = withOutput(u, 1)
	case ScenarioCutMidStream:
		u := usageCached
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		b.ping()
		for _, w := range []string{"This", " stream", " breaks"} {
			b.text(0, w)
		}
		p.cut = true
		p.usage = withOutput(u, 1)
	case ScenarioCutInData:
		u := usageCached
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		b.text(0, "This stream")
		b.raw(0, "event: content_block_delta\ndata: "+textDelta(0, " breaks")[:40])
		p.cut = true
		p.usage = withOutput(u, 1)
	case ScenarioSlow:
		u := usagePlain
		// Enough gaps to last at least total.
		n := 1
		if sp.gap > 0 {
			n = max(1, int((sp.total+sp.gap-1)/sp.gap))
		}
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		for i := range n {
			b.steps = append(b.steps, step{gap: sp.gap, data: []byte("event: content_block_delta\ndata: " + textDelta(0, fmt.Sprintf("slow %d. ", i+1)) + "\n\n")})
		}
		b.blockStop(0)
		b.end("end_turn", cumulative(u, n))
		p.usage = withOutput(u, n)
	case ScenarioLongGap:
		u := usagePlain
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		b.text(0, "Before the gap.")
		b.steps = append(b.steps, step{gap: sp.gap, data: []byte("event: content_block_delta\ndata: " + textDelta(0, " After the gap.") + "\n\n")})
		b.blockStop(0)
		b.end("end_turn", cumulative(u, 2))
		p.usage = withOutput(u, 2)
	case ScenarioLarge:
		u := usagePlain
		b.start(id, u)
		b.blockStart(0, `{"type":"text","text":""}`)
		for i := range sp.frames {
			if i > 0 && i%100 == 0 {
				b.ping()
			}
			b.text(0, fmt.Sprintf("word%d ", i))
		}
		b.blockStop(0)
		b.end("end_turn", cumulative(u, sp.frames))
		p.usage = withOutput(u, sp.frames)
	case ScenarioRateLimited, ScenarioOverloaded, ScenarioError:
		p.dependent = true
		rid := ""
		if ri != nil {
			rid = ri.requestID
		}
		jsonBody(sp.status, string(ErrorBody(sp.status, errorMessages[sp.status], rid)))
		if sp.status == http.StatusTooManyRequests {
			p.header = http.Header{}
			p.header.Set("retry-after", strconv.Itoa(sp.retry))
		}
	case ScenarioSpendLimited:
		p.dependent = true
		rid := ""
		if ri != nil {
			rid = ri.requestID
		}
		jsonBody(http.StatusTooManyRequests, `{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your specified workspace API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.","details":{"error_code":"enforced_spend_limit_reached"}},"request_id":`+js(rid)+`}`)
		p.header = http.Header{}
		p.header.Set("retry-after", strconv.Itoa(sp.retry))
	case ScenarioCountTokens:
		p.dependent = true
		n := 0
		if ri != nil {
			n = CountTokens(ri.body)
		}
		jsonBody(200, fmt.Sprintf(`{"input_tokens":%d}`, n))
	case ScenarioModels:
		status, body := modelsResponse(ri)
		jsonBody(status, body)
		// Pages and ids come from the request; never cache a request's answer.
		p.dependent = ri != nil
	case ScenarioOpenAI:
		jsonBody(200, `{"id":"chatcmpl-fake","object":"chat.completion","created":1764000000,"model":`+js(sp.model)+
			`,"choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the OpenAI-compatible fake."},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":8,"total_tokens":27}}`)
		p.usage = &Usage{InputTokens: 19, OutputTokens: 8}
	case ScenarioOpenAIStream:
		chunk := func(delta, finish string) {
			b.raw(0, `data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1764000000,"model":`+js(sp.model)+
				`,"choices":[{"index":0,"delta":`+delta+`,"finish_reason":`+finish+`}]}`+"\n\n")
		}
		chunk(`{"role":"assistant","content":""}`, "null")
		chunk(`{"content":"Hello from"}`, "null")
		chunk(`{"content":" the stream."}`, "null")
		chunk(`{}`, `"stop"`)
		b.raw(0, `data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1764000000,"model":`+js(sp.model)+
			`,"choices":[],"usage":{"prompt_tokens":19,"completion_tokens":6,"total_tokens":25}}`+"\n\n")
		b.raw(0, "data: [DONE]\n\n")
		p.usage = &Usage{InputTokens: 19, OutputTokens: 6}
	case ScenarioEcho:
		p.dependent = true
		var ei reqInfo
		if ri != nil {
			ei = *ri
		}
		jsonBody(200, fmt.Sprintf(`{"method":%s,"path":%s,"bytes":%d,"sha256":%q}`, js(ei.method), js(ei.path), ei.size, hex.EncodeToString(ei.sum[:])))
	}
	if p.stream {
		p.steps = b.steps
		if len(p.steps) > 0 {
			p.steps[0].gap = 0
		}
	} else {
		p.steps = b.steps
	}
	return p
}

// utf8Cuts returns where to cut f so that every piece ends inside a UTF-8
// character: after the lead byte of the first multi-byte character, two
// bytes into the first 4-byte one (an emoji), after the lead byte of the last.
func utf8Cuts(f string) []int {
	var points []int
	add := func(c int) {
		if len(points) == 0 || c > points[len(points)-1] {
			points = append(points, c)
		}
	}
	lastLead, emoji := -1, -1
	for i := 0; i < len(f); i++ {
		if f[i] >= 0xC0 {
			if lastLead < 0 {
				add(i + 1)
			}
			lastLead = i
		}
		if f[i] >= 0xF0 && emoji < 0 {
			emoji = i
			add(i + 2)
		}
	}
	if lastLead >= 0 {
		add(lastLead + 1)
	}
	return points
}

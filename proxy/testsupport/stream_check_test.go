package testsupport

import (
	"encoding/json"
	"fmt"

	"github.com/ferry-gateway/ferry/proxy/sse"
)

// frameCopy is an sse.Frame copied out of the callback.
type frameCopy struct {
	Event string
	Data  []byte
}

func parseFrames(body []byte) ([]frameCopy, int) {
	var s sse.Scanner
	var out []frameCopy
	fn := func(f sse.Frame) { out = append(out, frameCopy{f.Event, append([]byte(nil), f.Data...)}) }
	s.Feed(body, fn)
	s.Flush(fn)
	return out, s.Skipped()
}

// checkAnthropicStream validates event order and payload shapes the way the
// documented format requires, and computes the usage a meter should get:
// message_start's usage with the last message_delta's non-null fields over it.
// complete says whether the stream must end with message_stop.
func checkAnthropicStream(frames []frameCopy, complete bool) (Usage, error) {
	var u Usage
	var (
		started, deltaSeen, stopped, errored bool
		open                                 = map[int]string{}
		next                                 int
	)
	for i, f := range frames {
		var m map[string]any
		if err := json.Unmarshal(f.Data, &m); err != nil {
			return u, fmt.Errorf("frame %d (%s): data is not JSON: %v: %q", i, f.Event, err, f.Data)
		}
		if m["type"] != f.Event {
			return u, fmt.Errorf("frame %d: event %q but data type %v", i, f.Event, m["type"])
		}
		if stopped || errored {
			return u, fmt.Errorf("frame %d (%s) after the stream ended", i, f.Event)
		}
		if f.Event != "ping" && f.Event != "message_start" && !started {
			return u, fmt.Errorf("frame %d (%s) before message_start", i, f.Event)
		}
		idx := -1
		if v, ok := m["index"].(float64); ok {
			idx = int(v)
		}
		switch f.Event {
		case "ping":
		case "message_start":
			if started {
				return u, fmt.Errorf("second message_start")
			}
			started = true
			msg := m["message"].(map[string]any)
			if msg["role"] != "assistant" || msg["type"] != "message" {
				return u, fmt.Errorf("message_start message: %v", msg)
			}
			layUsage(&u, msg["usage"].(map[string]any))
		case "content_block_start":
			if idx != next {
				return u, fmt.Errorf("content_block_start index %d, want %d", idx, next)
			}
			next++
			open[idx] = m["content_block"].(map[string]any)["type"].(string)
		case "content_block_delta":
			typ, ok := open[idx]
			if !ok {
				return u, fmt.Errorf("delta for block %d which is not open", idx)
			}
			dt := m["delta"].(map[string]any)["type"].(string)
			want := map[string][]string{
				"text":     {"text_delta"},
				"tool_use": {"input_json_delta"},
				"thinking": {"thinking_delta", "signature_delta"},
			}[typ]
			known := dt == "text_delta" || dt == "input_json_delta" || dt == "thinking_delta" || dt == "signature_delta"
			okType := !known // unknown delta types pass
			for _, w := range want {
				okType = okType || dt == w
			}
			if !okType {
				return u, fmt.Errorf("%s delta in a %s block", dt, typ)
			}
		case "content_block_stop":
			if _, ok := open[idx]; !ok {
				return u, fmt.Errorf("stop for block %d which is not open", idx)
			}
			delete(open, idx)
		case "message_delta":
			if len(open) > 0 {
				return u, fmt.Errorf("message_delta with open blocks %v", open)
			}
			deltaSeen = true
			layUsage(&u, m["usage"].(map[string]any))
		case "message_stop":
			if !deltaSeen {
				return u, fmt.Errorf("message_stop without message_delta")
			}
			stopped = true
		case "error":
			errored = true
		}
	}
	if complete && !stopped {
		return u, fmt.Errorf("stream did not end with message_stop")
	}
	return u, nil
}

// layUsage lays the non-null fields of a usage object over u.
func layUsage(u *Usage, m map[string]any) {
	num := func(k string, dst *int) {
		if v, ok := m[k].(float64); ok {
			*dst = int(v)
		}
	}
	num("input_tokens", &u.InputTokens)
	num("output_tokens", &u.OutputTokens)
	num("cache_creation_input_tokens", &u.CacheCreationInputTokens)
	num("cache_read_input_tokens", &u.CacheReadInputTokens)
	if cc, ok := m["cache_creation"].(map[string]any); ok {
		if v, ok := cc["ephemeral_5m_input_tokens"].(float64); ok {
			u.CacheCreation5m = int(v)
		}
		if v, ok := cc["ephemeral_1h_input_tokens"].(float64); ok {
			u.CacheCreation1h = int(v)
		}
	}
	if v, ok := m["service_tier"].(string); ok {
		u.ServiceTier = v
	}
	if v, ok := m["inference_geo"].(string); ok {
		u.InferenceGeo = v
	}
	if v, ok := m["speed"].(string); ok {
		u.Speed = v
	}
}

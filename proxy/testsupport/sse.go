package testsupport

import (
	"encoding/json"
	"fmt"
	"time"
)

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func usageJSON(u Usage, outputTokens int) string {
	s := fmt.Sprintf(`{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":%d},"output_tokens":%d`,
		u.InputTokens, u.CacheCreationInputTokens, u.CacheReadInputTokens, u.CacheCreation5m, u.CacheCreation1h, outputTokens)
	if u.ServiceTier != "" {
		s += `,"service_tier":` + js(u.ServiceTier)
	}
	if u.InferenceGeo != "" {
		s += `,"inference_geo":` + js(u.InferenceGeo)
	}
	if u.Speed != "" {
		s += `,"speed":` + js(u.Speed)
	}
	return s + "}"
}

// streamBuilder writes Anthropic SSE frames.
type streamBuilder struct {
	steps []step
	sp    spec
}

func (b *streamBuilder) raw(gap time.Duration, s string) {
	b.steps = append(b.steps, step{gap: gap, data: []byte(s)})
}

func (b *streamBuilder) frame(event, data string) { b.raw(0, "event: "+event+"\ndata: "+data+"\n\n") }

func (b *streamBuilder) start(id string, u Usage) {
	b.frame("message_start", `{"type":"message_start","message":{"id":`+js(id)+`,"type":"message","role":"assistant","model":`+js(b.sp.model)+
		`,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`+usageJSON(u, 1)+`}}`)
}

func (b *streamBuilder) ping() { b.frame("ping", `{"type": "ping"}`) }

func (b *streamBuilder) blockStart(i int, block string) {
	b.frame("content_block_start", fmt.Sprintf(`{"type":"content_block_start","index":%d,"content_block":%s}`, i, block))
}

func textDelta(i int, text string) string {
	return fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%s}}`, i, js(text))
}

func (b *streamBuilder) text(i int, text string) { b.frame("content_block_delta", textDelta(i, text)) }

func (b *streamBuilder) delta(i int, typ, field, v string) {
	b.frame("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":%d,"delta":{"type":%s,%s:%s}}`, i, js(typ), js(field), js(v)))
}

func (b *streamBuilder) blockStop(i int) {
	b.frame("content_block_stop", fmt.Sprintf(`{"type":"content_block_stop","index":%d}`, i))
}

func (b *streamBuilder) end(stopReason, usage string) {
	b.frame("message_delta", `{"type":"message_delta","delta":{"stop_reason":`+js(stopReason)+`,"stop_sequence":null},"usage":`+usage+`}`)
	b.frame("message_stop", `{"type":"message_stop"}`)
}

// cumulative is a full message_delta usage (the API sends cumulative counts).
func cumulative(u Usage, output int) string {
	return fmt.Sprintf(`{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":%d}`,
		u.InputTokens, u.CacheCreationInputTokens, u.CacheReadInputTokens, output)
}

func outputOnly(output int) string { return fmt.Sprintf(`{"output_tokens":%d}`, output) }

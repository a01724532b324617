package sse

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSummaryKeepsUsageFrames(t *testing.T) {
	stream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n" +
		"event: ping\ndata: {\"type\":\"ping\"}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n" +
		// A frame without an event: line is known by its data's type.
		"data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
	var (
		s     Summary
		sc    Scanner
		calls int
	)
	at := time.Unix(100, 0)
	sc.Feed([]byte(stream), func(f Frame) { s.Add(f, func() time.Time { calls++; return at }) })
	if len(s.Frames) != 2 || s.Frames[0].Event != "message_start" || s.Frames[1].Event != "message_delta" ||
		!bytes.Contains(s.Frames[1].Data, []byte(`"output_tokens":9`)) {
		t.Fatalf("kept %+v", s.Frames)
	}
	if !s.FirstDelta.Equal(at) || calls != 1 || s.Truncated {
		t.Errorf("first delta %v after %d clock reads, truncated %v", s.FirstDelta, calls, s.Truncated)
	}
}

func TestSummaryBounded(t *testing.T) {
	var s Summary
	big := []byte(`{"type":"message_delta","pad":"` + strings.Repeat("x", 100<<10) + `"}`)
	for range 5 {
		s.Add(Frame{Event: "message_delta", Data: big}, time.Now)
	}
	if !s.Truncated || len(s.Frames) != MaxSummaryBytes/len(big) {
		t.Errorf("kept %d frames, truncated %v", len(s.Frames), s.Truncated)
	}
}

package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// A stream the road cuts, repaired by Ferry: the official Go SDK raises an
// APIError of the error frame's type, never a JSON parse error from half a
// frame (issue 9). cut_in_data stops inside a data: line, the case a blank
// line alone used to turn into truncated JSON.
func TestSDKGoCutStreamRaisesAPIError(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := sdkStartFerry(t, fake, "")
	c := sdkClient(srv.BaseURL(), sdkRealKey, sdkLoopbackClient())
	for _, sc := range []string{testsupport.ScenarioCutInData, testsupport.ScenarioCutMidStream, testsupport.ScenarioCutAfterStart} {
		t.Run(sc, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stream := c.Messages.NewStreaming(ctx, sdkParams, option.WithHeader(testsupport.ScenarioHeader, sc))
			var msg anthropic.Message
			for stream.Next() {
				if err := msg.Accumulate(stream.Current()); err != nil {
					t.Fatalf("accumulate: %v", err)
				}
			}
			err := stream.Err()
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("stream error %T %v, want an *anthropic.Error", err, err)
			}
			if !strings.Contains(apiErr.RawJSON(), `"api_error"`) || strings.Contains(err.Error(), "JSON") && strings.Contains(err.Error(), "unexpected end") {
				t.Fatalf("error %v (raw %s), want the repair's api_error", err, apiErr.RawJSON())
			}
			if sc == testsupport.ScenarioCutInData && (len(msg.Content) != 1 || msg.Content[0].Text != "This stream") {
				t.Fatalf("content before the cut: %+v", msg.Content)
			}
		})
	}
}

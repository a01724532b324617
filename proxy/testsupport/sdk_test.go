package testsupport

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

// The official Go SDK reads every canned response the way the real API's
// would be read: the fake's format is what the SDK expects.
func TestOfficialSDKReadsTheFake(t *testing.T) {
	f := NewFakeAPITLS(t)
	client := func(scenario string) *anthropic.Client {
		c := anthropic.NewClient(
			option.WithBaseURL(f.URL),
			option.WithHTTPClient(f.Client()),
			option.WithAPIKey("sk-ant-fake"),
			option.WithMaxRetries(0),
			option.WithHeader(ScenarioHeader, scenario),
		)
		return &c
	}
	params := anthropic.MessageNewParams{
		Model:     anthropic.Model(DefaultModel),
		MaxTokens: 1024,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, sc := range []string{ScenarioStream, ScenarioToolUse, ScenarioThinking, ScenarioUTF8Split + ";split_gap=1ms", ScenarioUnknownEvent, ScenarioLarge + ";frames=200"} {
		t.Run(sc, func(t *testing.T) {
			c := client(sc)
			stream := c.Messages.NewStreaming(ctx, params)
			var msg anthropic.Message
			for stream.Next() {
				if err := msg.Accumulate(stream.Current()); err != nil {
					t.Fatalf("accumulate: %v", err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			want := f.ExpectedUsage(sc)
			u := msg.Usage
			if int(u.InputTokens) != want.InputTokens || int(u.OutputTokens) != want.OutputTokens ||
				int(u.CacheCreationInputTokens) != want.CacheCreationInputTokens || int(u.CacheReadInputTokens) != want.CacheReadInputTokens {
				t.Fatalf("SDK usage %+v, want %+v", u, want)
			}
			if len(msg.Content) == 0 || msg.StopReason == "" {
				t.Fatalf("message %+v", msg)
			}
			if sc == ScenarioToolUse {
				tu := msg.Content[1].AsToolUse()
				if tu.Name != "get_weather" || string(tu.Input) != `{"location": "San Francisco, CA", "unit": "celsius"}` {
					t.Fatalf("tool use %s %s", tu.Name, tu.Input)
				}
			}
			if sc == ScenarioThinking && msg.Content[0].AsThinking().Signature == "" {
				t.Fatal("no signature")
			}
		})
	}

	t.Run("message", func(t *testing.T) {
		msg, err := client(ScenarioMessage).Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		u := msg.Usage
		if u.CacheCreation.Ephemeral5mInputTokens != 1000 || u.CacheCreation.Ephemeral1hInputTokens != 200 || u.ServiceTier != "standard" || u.InferenceGeo != "us" {
			t.Fatalf("usage %+v", u)
		}
	})

	t.Run("stream_error", func(t *testing.T) {
		stream := client(ScenarioStreamError).Messages.NewStreaming(ctx, params)
		for stream.Next() {
		}
		if stream.Err() == nil {
			t.Fatal("the error frame did not reach the SDK as an error")
		}
	})

	for _, tt := range []struct {
		scenario string
		status   int
	}{{ScenarioRateLimited, http.StatusTooManyRequests}, {ScenarioOverloaded, 529}} {
		t.Run(tt.scenario, func(t *testing.T) {
			_, err := client(tt.scenario).Messages.New(ctx, params)
			var apiErr *anthropic.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.RequestID == "" {
				t.Fatalf("error %v", err)
			}
		})
	}

	t.Run("count_tokens", func(t *testing.T) {
		n, err := client("").Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{
			Model:    anthropic.Model(DefaultModel),
			Messages: params.Messages,
		})
		if err != nil || n.InputTokens != int64(CountTokens(f.Last().Body)) {
			t.Fatalf("%v %+v", err, n)
		}
	})

	t.Run("models", func(t *testing.T) {
		pager := client("").Models.ListAutoPaging(ctx, anthropic.ModelListParams{Limit: anthropic.Int(2)})
		n := 0
		for pager.Next() {
			n++
		}
		if pager.Err() != nil || n != len(Models) {
			t.Fatalf("%d models, %v", n, pager.Err())
		}
	})
}

package usage

import (
	"net/http"
	"testing"
)

func TestClientFamily(t *testing.T) {
	cases := []struct {
		ua   string
		h    http.Header
		want string
	}{
		{ua: "claude-cli/2.0.14 (external, cli)", want: ClientClaudeCLI},
		{ua: "claude-cli/1.0.98 (external, sdk-ts)", want: ClientClaudeCLI},
		{ua: "claude-cli/2.0.14 (external, claude-vscode)", h: http.Header{"X-Stainless-Lang": {"js"}}, want: ClientClaudeCLI},
		{ua: "Anthropic/JS 0.52.0", want: ClientSDKTS},
		{ua: "Anthropic/Python 0.49.0", want: ClientSDKPython},
		{ua: "AsyncAnthropic/Python 0.49.0", want: ClientSDKPython},
		{ua: "Anthropic/Go 1.84.0", want: ClientSDKGo},
		{ua: "Anthropic/Java 2.1.0", want: ClientSDKJava},
		{ua: "Anthropic/JS 0.52.0", h: http.Header{"X-Title": {"Cline"}, "Http-Referer": {"https://cline.bot"}}, want: ClientCline},
		{ua: "Cline/3.0.47", want: ClientCline},
		{ua: "Continue/1.2.0", want: ClientContinue},
		{ua: "Mozilla/5.0 Cursor/1.7", want: ClientCursor},
		{ua: "Zed/0.210.4", want: ClientZed},
		{ua: "curl/8.14.1", want: ClientCurl},
		{ua: "node", h: http.Header{"X-Stainless-Lang": {"python"}}, want: ClientSDKPython},
		{ua: "python-requests/2.32", want: ClientOther},
		{ua: "", want: ClientOther},
		{ua: "claude-cli", want: ClientClaudeCLI}, // a family maps to itself
	}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c.h {
			h[http.CanonicalHeaderKey(k)] = v
		}
		h.Set("User-Agent", c.ua)
		if got := ClientFamilyFromHeader(h); got != c.want {
			t.Errorf("ClientFamilyFromHeader(UA %q, %v) = %q, want %q", c.ua, c.h, got, c.want)
		}
		if c.h == nil {
			if got := ClientFamily(c.ua); got != c.want {
				t.Errorf("ClientFamily(%q) = %q, want %q", c.ua, got, c.want)
			}
		}
	}
}

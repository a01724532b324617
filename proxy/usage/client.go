package usage

import (
	"net/http"
	"strings"
)

// Client families ClientFamily returns.
const (
	ClientClaudeCLI = "claude-cli"
	ClientSDKTS     = "anthropic-sdk-typescript"
	ClientSDKPython = "anthropic-sdk-python"
	ClientSDKGo     = "anthropic-sdk-go"
	ClientSDKJava   = "anthropic-sdk-java"
	ClientSDKRuby   = "anthropic-sdk-ruby"
	ClientSDKCSharp = "anthropic-sdk-csharp"
	ClientCline     = "cline"
	ClientContinue  = "continue"
	ClientCursor    = "cursor"
	ClientZed       = "zed"
	ClientCurl      = "curl"
	ClientOther     = "other"
)

var families = map[string]bool{
	ClientClaudeCLI: true, ClientSDKTS: true, ClientSDKPython: true, ClientSDKGo: true,
	ClientSDKJava: true, ClientSDKRuby: true, ClientSDKCSharp: true, ClientCline: true,
	ClientContinue: true, ClientCursor: true, ClientZed: true, ClientCurl: true, ClientOther: true,
}

// ClientFamily maps a User-Agent to the family of client that sent it:
//
//	claude-cli/2.0.14 (external, cli)  → claude-cli (Claude Code, its IDE extensions and the Agent SDK)
//	Anthropic/JS 0.52.0                → anthropic-sdk-typescript
//	Anthropic/Python 0.49.0            → anthropic-sdk-python (AsyncAnthropic/Python too)
//	Anthropic/Go 1.84.0                → anthropic-sdk-go
//	curl/8.5.0                         → curl
//
// and cline, continue, cursor, zed when their name is in it; anything else
// is "other". A family name maps to itself, so mapping twice is harmless.
func ClientFamily(userAgent string) string {
	ua := strings.ToLower(strings.TrimSpace(userAgent))
	if families[ua] {
		return ua
	}
	switch {
	case strings.HasPrefix(ua, "claude-cli/"), strings.HasPrefix(ua, "claude-code/"):
		return ClientClaudeCLI
	case strings.Contains(ua, "cline"):
		return ClientCline
	case strings.Contains(ua, "continue"):
		return ClientContinue
	case strings.Contains(ua, "cursor"):
		return ClientCursor
	case strings.HasPrefix(ua, "zed/"):
		return ClientZed
	case strings.HasPrefix(ua, "curl/"):
		return ClientCurl
	}
	// The Stainless-generated SDKs send "Anthropic/<Lang> <version>" (the
	// async Python client "AsyncAnthropic/Python").
	for _, p := range []string{"anthropic/", "asyncanthropic/"} {
		if rest, ok := strings.CutPrefix(ua, p); ok {
			lang, _, _ := strings.Cut(rest, " ")
			if f := sdkFamily(lang); f != "" {
				return f
			}
		}
	}
	return ClientOther
}

func sdkFamily(lang string) string {
	switch lang {
	case "js", "node", "typescript":
		return ClientSDKTS
	case "python":
		return ClientSDKPython
	case "go":
		return ClientSDKGo
	case "java", "kotlin":
		return ClientSDKJava
	case "ruby":
		return ClientSDKRuby
	case "csharp", "c#", "dotnet":
		return ClientSDKCSharp
	}
	return ""
}

// ClientFamilyFromHeader is ClientFamily with the rest of the request's
// headers to help: Cline marks its requests with X-Title and
// HTTP-Referer, and an SDK whose User-Agent was replaced (a browser, a
// wrapper) still sends X-Stainless-Lang.
func ClientFamilyFromHeader(h http.Header) string {
	f := ClientFamily(h.Get("User-Agent"))
	if f == ClientClaudeCLI {
		return f
	}
	if strings.EqualFold(h.Get("X-Title"), "cline") || strings.Contains(h.Get("HTTP-Referer"), "cline.bot") ||
		h.Get("X-Cline-Version") != "" {
		return ClientCline
	}
	if f != ClientOther {
		return f
	}
	if s := sdkFamily(strings.ToLower(h.Get("X-Stainless-Lang"))); s != "" {
		return s
	}
	return ClientOther
}

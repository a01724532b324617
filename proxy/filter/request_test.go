package filter

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// ccBody is a Claude Code-shaped request: billing block, a long system
// prompt, a turn that reads .env through a tool, a signed thinking block
// and an image, with extra turns appended as given.
func ccBody(envFile string, more ...string) string {
	system := strings.Repeat("You are Claude Code, Anthropic's official CLI for Claude. Use the tools. ", 200)
	msgs := []string{
		`{"role":"user","content":[{"type":"text","text":"why does the app not connect? see .env"}]}`,
		`{"role":"assistant","content":[{"type":"thinking","thinking":"read .env; ghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08 is not mine to touch","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxeyJhbGciOiJIUzI1NiJ9"},` +
			`{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"cat .env","description":"Show env"}}]}`,
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":` + jsonString(envFile) + `},` +
			`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}}]}`,
	}
	msgs = append(msgs, more...)
	return `{"model":"claude-sonnet-4-6","max_tokens":32000,"stream":true,` +
		`"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.3; cc_entrypoint=cli; cch=AKIAKA74ZTJ2WYUHVAUV;"},` +
		`{"type":"text","text":` + jsonString(system) + `,"cache_control":{"type":"ephemeral"}}],` +
		`"messages":[` + strings.Join(msgs, ",") + `],` +
		`"tools":[{"name":"Bash","description":"Run a command. Never print GITHUB_TOKEN=...","input_schema":{"type":"object"}}]}`
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const envFile = "PORT=8080\nMAX_TOKENS=4096\nGITHUB_TOKEN=" + tGitHub + "\nDB_PASSWORD=hunter2hunter2\n"

func TestRequestClaudeCodeBody(t *testing.T) {
	s := secretsSet(t)
	body := ccBody(envFile)
	res := s.FilterRequest("/v1/messages", []byte(body), false)
	if res.Blocked != nil || res.Raw {
		t.Fatalf("blocked %v raw %v", res.Blocked, res.Raw)
	}
	want := strings.Replace(body, tGitHub+`\nDB_PASSWORD=hunter2hunter2`,
		s.Placeholder("github-token", []byte(tGitHub))+`\nDB_PASSWORD=`+s.Placeholder("env-secret", []byte("hunter2hunter2")), 1)
	if want == body {
		t.Fatal("test body lacks the secret")
	}
	if string(res.Body) != want {
		t.Fatalf("body changed beyond the secrets:\n%s", diffAt(string(res.Body), want))
	}
	if !json.Valid(res.Body) {
		t.Fatal("output is not JSON")
	}
	if got := fmt.Sprint(res.Hits); got != "[{secrets 4 github-token redact 1 } {secrets 17 env-secret redact 1 }]" {
		t.Errorf("hits %s", got)
	}
	// Nothing to redact: the very same bytes go upstream.
	clean := ccBody("PORT=8080\n")
	if res := s.FilterRequest("/v1/messages", []byte(clean), false); &res.Body[0] != &[]byte(clean)[0] && string(res.Body) != clean || res.Hits != nil {
		t.Fatalf("clean body changed or hit: %v", res.Hits)
	}
}

func diffAt(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-40)
	return fmt.Sprintf("at %d:\n got …%.120s\nwant …%.120s", i, a[lo:], b[lo:])
}

func TestRequestStableAcrossTurns(t *testing.T) {
	s := secretsSet(t)
	turn1 := s.FilterRequest("/v1/messages", []byte(ccBody(envFile)), false).Body
	turn2 := s.FilterRequest("/v1/messages", []byte(ccBody(envFile,
		`{"role":"assistant","content":[{"type":"text","text":"The token is set."}]}`,
		`{"role":"user","content":"thanks"}`)), false).Body
	// The earlier turns read the same, byte for byte, so Anthropic's
	// prompt cache prefix still matches.
	cut := strings.Index(string(turn1), `],"tools"`)
	if string(turn2[:cut]) != string(turn1[:cut]) {
		t.Fatalf("turn 2 rewrote turn 1 differently:\n%s", diffAt(string(turn2[:cut]), string(turn1[:cut])))
	}
}

func TestRequestEscapes(t *testing.T) {
	s := secretsSet(t)
	// The token written with \u escapes, between escaped quotes and
	// after an escaped newline: the whole escaped span goes, the
	// placeholder is that of the decoded value, the escapes around stay.
	esc := `ghp_\u004aDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R0\u0038`
	body := `{"messages":[{"role":"user","content":"a\n\"` + esc + `\"\tb"}]}`
	res := s.FilterRequest("/v1/messages", []byte(body), false)
	want := `{"messages":[{"role":"user","content":"a\n\"` + s.Placeholder("github-token", []byte(tGitHub)) + `\"\tb"}]}`
	if string(res.Body) != want {
		t.Fatalf("\n got %s\nwant %s", res.Body, want)
	}
	// A PEM block whose newlines are escapes is cut whole.
	pem := jsonString(tPEM)
	body = `{"system":"keys: ` + pem[1:len(pem)-1] + ` done","messages":[]}`
	res = s.FilterRequest("/v1/messages", []byte(body), false)
	if want := `{"system":"keys: ` + s.Placeholder("private-key", []byte(tPEM)) + ` done","messages":[]}`; string(res.Body) != want {
		t.Fatalf("\n got %s\nwant %s", res.Body, want)
	}
}

func TestRequestSubscription(t *testing.T) {
	s := secretsSet(t)
	withKeyInPrompt := strings.Replace(ccBody("PORT=1\n"), "Use the tools.", "Deploy key "+tGitHub+". Use the tools.", 1)
	res := s.FilterRequest("/v1/messages", []byte(withKeyInPrompt), true)
	if res.Blocked == nil || !res.Blocked.Prefix {
		t.Fatalf("subscription prefix redaction not blocked: %+v", res.Blocked)
	}
	msg := res.Blocked.Error()
	if strings.Contains(msg, tGitHub) || !strings.Contains(msg, `"secrets"`) || !strings.Contains(msg, "entry 4") || !strings.Contains(msg, "/rewind") {
		t.Fatalf("message %q", msg)
	}
	// The same body with an API key is redacted in place.
	// (The one left is in the signed thinking block, never touched.)
	if res := s.FilterRequest("/v1/messages", []byte(withKeyInPrompt), false); res.Blocked != nil || strings.Count(string(res.Body), tGitHub) != 1 {
		t.Fatalf("API-key traffic: blocked %v", res.Blocked)
	}
	// On a subscription, a secret in a tool result is redacted as usual.
	if res := s.FilterRequest("/v1/messages", []byte(ccBody(envFile)), true); res.Blocked != nil || strings.Count(string(res.Body), tGitHub) != 1 {
		t.Fatalf("subscription tool result: blocked %v", res.Blocked)
	}
}

func TestRequestBillingBlockUntouched(t *testing.T) {
	s := secretsSet(t)
	body := ccBody("PORT=1\n")
	res := s.FilterRequest("/v1/messages", []byte(body), true)
	if string(res.Body) != body || res.Hits != nil {
		t.Fatalf("billing block or thinking block scanned: %v", res.Hits)
	}
}

func TestRequestBlock(t *testing.T) {
	l := keywords("banned", "机密项目")
	l.Entries[0].Action = Block
	s := compileOne(t, l)
	res := s.FilterRequest("/v1/messages/count_tokens", []byte(`{"messages":[{"role":"user","content":"关于机密项目"}]}`), false)
	if res.Blocked == nil || res.Blocked.Rule.List != "banned" || res.Blocked.Rule.Entry != 1 {
		t.Fatalf("%+v", res.Blocked)
	}
	if strings.Contains(res.Blocked.Error(), "机密项目") {
		t.Fatal("block message shows the text")
	}
}

func TestRequestChatCompletions(t *testing.T) {
	s := secretsSet(t)
	body := `{"model":"claude-sonnet-4-6","messages":[{"role":"system","content":"key ` + tStripe + `"},` +
		`{"role":"user","content":[{"type":"text","text":"and ` + tGoogle + `"}]},` +
		`{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{\"k\":\"` + tSlack + `\"}"}}]}]}`
	res := s.FilterRequest("/v1/chat/completions", []byte(body), false)
	for _, sec := range []string{tStripe, tGoogle, tSlack} {
		if strings.Contains(string(res.Body), sec) {
			t.Errorf("%s left in %s", sec, res.Body)
		}
	}
	if !json.Valid(res.Body) {
		t.Fatal("invalid JSON out")
	}
}

func TestRequestInvalidJSONAndUTF8(t *testing.T) {
	s := secretsSet(t)
	// Not JSON: scanned as bytes, the secret redacted in place.
	body := `{"messages":[{"role":"user","content":"x ` + tGitHub + ` y"` // truncated
	res := s.FilterRequest("/v1/messages", []byte(body), false)
	if !res.Raw || strings.Contains(string(res.Body), tGitHub) {
		t.Fatalf("raw %v body %s", res.Raw, res.Body)
	}
	// Not JSON and nothing to find: unchanged, Anthropic answers it.
	if res := s.FilterRequest("/v1/messages", []byte(`{"messages":`), false); string(res.Body) != `{"messages":` {
		t.Fatal("changed")
	}
	// Invalid UTF-8 next to a secret: both survive as bytes, the secret
	// goes.
	body = "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe " + tGitHub + " \xc3\"}]}"
	res = s.FilterRequest("/v1/messages", []byte(body), false)
	want := strings.Replace(body, tGitHub, s.Placeholder("github-token", []byte(tGitHub)), 1)
	if string(res.Body) != want {
		t.Fatalf("\n got %q\nwant %q", res.Body, want)
	}
}

func TestRequestOtherPathsUntouched(t *testing.T) {
	s := secretsSet(t)
	body := `{"requests":[{"params":{"messages":[{"role":"user","content":"` + tGitHub + `"}]}}]}`
	if res := s.FilterRequest("/v1/messages/batches", []byte(body), false); string(res.Body) != body {
		t.Fatal("batch body changed")
	}
}

var placeholderRE = regexp.MustCompile(`\[FILTERED:[A-Za-z0-9_.-]+:[0-9a-f]{4}\]`)

// FuzzFilterRequest: whatever the body, the filter never panics, changes
// only the bytes of matches (each removed span decodes to text holding the
// keyword), and keeps valid JSON valid.
func FuzzFilterRequest(f *testing.F) {
	f.Add(ccBody(envFile))
	f.Add(`{"messages":[{"role":"user","content":"a SeCrEt b \u0053ecret \"secret\""}]}`)
	f.Add(`{"system":"secret","messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"text","text":"secret\\"}]}]}]}`)
	f.Add(`{"messages":[{"content":"ｓｅｃｒｅｔ\ud83d\ude00secret"}]}`)
	f.Add("{\"messages\":[{\"content\":\"\xffsecret\"}]}")
	l := keywords("k", "secret")
	sec := DefaultSecrets()
	set, err := Compile([]List{l, sec}, testKey)
	if err != nil {
		f.Fatal(err)
	}
	kw := compileOne(f, l)
	f.Fuzz(func(t *testing.T, body string) {
		res := set.FilterRequest("/v1/messages", []byte(body), false)
		if json.Valid([]byte(body)) && !json.Valid(res.Body) {
			t.Fatalf("valid JSON in, invalid out:\n%.2000s\n%.2000s", body, res.Body)
		}
		res = kw.FilterRequest("/v1/messages", []byte(body), false)
		out := string(res.Body)
		pieces := placeholderRE.Split(out, -1)
		rest := body
		for i, p := range pieces {
			if !strings.HasPrefix(rest, p) && i == 0 {
				t.Fatalf("changed before the first match:\n%q\n%q", body, out)
			}
			if i == 0 {
				rest = rest[len(p):]
				continue
			}
			// The removed span ends where the next piece starts: the
			// first place where what lies before it is a match.
			k := -1
			for from := 0; from <= len(rest); {
				at := strings.Index(rest[from:], p)
				if at < 0 {
					break
				}
				if p == "" && i < len(pieces)-1 {
					t.Skip("adjacent placeholders: spans ambiguous")
				}
				if p == "" {
					at = len(rest) - from
				}
				if isMatch(rest[:from+at]) {
					k = from + at
					break
				}
				from += at + 1
			}
			if k < 0 {
				t.Fatalf("no match removed before piece %q:\n%q\n%q", p, body, out)
			}
			rest = rest[k+len(p):]
		}
		if rest != "" {
			t.Fatalf("bytes lost at the end: %q", rest)
		}
	})
}

func isMatch(removed string) bool {
	var dec string
	if json.Unmarshal([]byte(`"`+removed+`"`), &dec) != nil {
		dec = removed
	}
	return strings.Contains(keyFold(dec), "secret")
}

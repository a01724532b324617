package filter

import (
	"bytes"
	"strings"
	"testing"
)

// Real-looking values: right prefixes, lengths and alphabets, random
// bodies (none is a live credential).
const (
	tAnthropic = "sk-ant-api03-PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA-2O76UMFxFkM-R5Kjp1vRt_1fjORS-6ilI8ihN5KXSc7Tvo-hBKqFYAA"
	tOAuth     = "sk-ant-oat01-Y-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po_799NksnRH9ucAUsdMlHUvTCQCyEZD"
	tOpenAI    = "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"
	tOpenAIOld = "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"
	tGitHub    = "ghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08"
	tGitHubPAT = "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"
	tGitLab    = "glpat-F5n3-YNBDRzrZSgqbjG3"
	tSlack     = "xoxb-201684934072-2470455853043-wlavyfErGPmpGXafq0fjzLcz"
	tHook      = "https://hooks.slack.com/services/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"
	tStripe    = "sk_live_y1CJdObOIRpFqaDZeV7G5IfQ"
	tGoogle    = "AIzai8GjHEAD6-Wj9KfzjsQGMrb9h_ImB_LK777"
	tGOCSPX    = "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"
	tAKIA      = "AKIAKA74ZTJ2WYUHVAUV"
	tAWSSecret = "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"
	tJWT       = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTIzNDU2Nzg5MCIsICJuYW1lIjogIkFkYSIsICJpYXQiOiAxNzE2MjM5MDIyfQ.81RKMGHZEM9YpvujA-C5Q52ryFlwRlOEVHzc0X0AWIR"
	tPEM       = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----"
)

var testKey = []byte("per-install test key")

func secretsSet(t testing.TB) *Set {
	t.Helper()
	s, err := Compile([]List{DefaultSecrets()}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSecretsFind(t *testing.T) {
	s := secretsSet(t)
	cases := []struct {
		name, text, rule, secret string
	}{
		{"anthropic", "key: " + tAnthropic + "\n", "anthropic-key", tAnthropic},
		{"anthropic oauth", `"accessToken":"` + tOAuth + `"`, "anthropic-oauth", tOAuth},
		{"openai project", "OPENAI=" + tOpenAI, "openai-key", tOpenAI},
		{"openai legacy", "client = OpenAI(api_key='" + tOpenAIOld + "')", "openai-key", tOpenAIOld},
		{"github classic", "git clone https://" + tGitHub + "@github.com/o/r", "github-token", tGitHub},
		{"github fine-grained", "token " + tGitHubPAT, "github-token", tGitHubPAT},
		{"gitlab", "PRIVATE-TOKEN: " + tGitLab, "gitlab-token", tGitLab},
		{"slack bot", "SLACK " + tSlack, "slack-token", tSlack},
		{"slack webhook", "curl -X POST " + tHook, "slack-webhook", tHook},
		{"stripe", "Stripe::api_key = '" + tStripe + "'", "stripe-key", tStripe},
		{"google", "?key=" + tGoogle + "&q=x", "google-api-key", tGoogle},
		{"google oauth", "client_secret: " + tGOCSPX, "google-oauth-secret", tGOCSPX},
		{"aws id", "id " + tAKIA + " here", "aws-access-key-id", tAKIA},
		{"aws secret named", "aws_secret_access_key = " + tAWSSecret + "\n", "aws-secret-key", tAWSSecret},
		{"aws secret json", `"SecretAccessKey": "` + tAWSSecret + `",`, "aws-secret-key", tAWSSecret},
		{"jwt", "Authorization: Bearer " + tJWT, "jwt", tJWT},
		{"pem", "key:\n" + tPEM + "\nend", "private-key", tPEM},
		{"pem escaped newlines", `KEY="` + strings.ReplaceAll(tPEM, "\n", `\n`) + `"`, "private-key", strings.ReplaceAll(tPEM, "\n", `\n`)},
		{"url password", "DATABASE_URL=postgres://app:Tr0ub4dor&3x@db.internal:5432/app", "url-password", "Tr0ub4dor&3x"},
		{"env password", "DB_PASSWORD=hunter2hunter2\n", "env-secret", "hunter2hunter2"},
		{"env quoted", "export API_KEY=\"abc123def456ghi\"\n", "env-secret", "abc123def456ghi"},
		{"env token lower", "github_token=q8w7e6r5t4y3\n", "env-secret", "q8w7e6r5t4y3"},
		{"env private key name", "JWT_PRIVATE_KEY=MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", "env-secret", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"},
		{"env in Read tool output", "     1→# settings\n     2→SESSION_SECRET=s3cr3t-v4lue-99\n", "env-secret", "s3cr3t-v4lue-99"},
		{"env in cat -n output", "     7\tSTRIPE_WEBHOOK_SECRET=whsec_abcdef123456\n", "env-secret", "whsec_abcdef123456"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ms := s.Scan(Request, []byte(c.text))
			if len(ms) != 1 {
				t.Fatalf("%d matches in %q, want 1: %+v", len(ms), c.text, ms)
			}
			m := ms[0]
			if got := s.Rule(Request, m).Name; got != c.rule {
				t.Errorf("rule %s, want %s", got, c.rule)
			}
			if got := c.text[m.Start:m.End]; got != c.secret {
				t.Errorf("matched %q, want %q", got, c.secret)
			}
			out, _ := s.Apply(Request, []byte(c.text))
			want := strings.Replace(c.text, c.secret, s.Placeholder(c.rule, []byte(c.secret)), 1)
			if string(out) != want {
				t.Errorf("Apply:\n got %q\nwant %q", out, want)
			}
		})
	}
}

func TestSecretsNearMisses(t *testing.T) {
	s := secretsSet(t)
	misses := []string{
		"MAX_TOKENS=4096",
		"PRIMARY_KEY=id",
		"max_tokens = 8192",
		"NUM_TOKENS=1234567890",
		"API_KEY=${API_KEY}",
		"API_KEY=<your-api-key>",
		"DB_PASSWORD=changeme",
		"SECRET_KEY=xxxxxxxxxxxx",
		"ACCESS_TOKEN=$ACCESS_TOKEN",
		"AUTH_TOKEN=short",
		"    token = request.headers.get('Authorization')",
		"const apiKey = process.env.ANTHROPIC_API_KEY;",
		"func (t *Token) Valid() bool { return t.secret != nil }",
		"commit 3f786850e387550fdab836ed7e6dc881de23001b",
		"sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"id := \"123e4567-e89b-12d3-a456-426614174000\"",
		"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
		"ghp_tooShort123",
		"xghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08",
		"ghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08X",
		"sk-ant-api03-notarealkey",
		"sk_live_short",
		"AKIAIOSFODNN7EXAMPLE", // AWS's documented example
		"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AKIAKA74ZTJ2WYUHVAU", // one short
		tAWSSecret,            // alone: 40 base64 characters are everywhere
		"https://example.com:8080/path?x=1",
		"postgres://user:${DB_PASS}@localhost/db",
		"postgres://user:password@localhost/db",
		"git@github.com:ferry-gateway/ferry.git",
		"eyJhbGciOiJIUzI1NiJ9 alone is a header",
		"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
		"-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END CERTIFICATE-----",
		"[FILTERED:env-secret:7f3a]",
		"API_KEY=[FILTERED:env-secret:7f3a]",
	}
	for _, m := range misses {
		if ms := s.Scan(Request, []byte(m)); len(ms) != 0 {
			r := s.Rule(Request, ms[0])
			t.Errorf("%q: %s matched %q", m, r.Name, m[ms[0].Start:ms[0].End])
		}
	}
}

func TestSecretsAWSNextToID(t *testing.T) {
	s := secretsSet(t)
	text := "Access key ID,Secret access key\n" + tAKIA + "," + tAWSSecret + "\n"
	out, ms := s.Apply(Request, []byte(text))
	if len(ms) != 2 {
		t.Fatalf("%d matches, want id and secret: %s", len(ms), out)
	}
	if bytes.Contains(out, []byte(tAWSSecret)) || bytes.Contains(out, []byte(tAKIA)) {
		t.Fatalf("not redacted: %s", out)
	}
	// A git hash next to a key id is still a git hash.
	if ms := s.Scan(Request, []byte(tAKIA+" 3f786850e387550fdab836ed7e6dc881de23001b")); len(ms) != 1 {
		t.Fatalf("hash next to an id matched: %+v", ms)
	}
}

func TestPlaceholderStable(t *testing.T) {
	s := secretsSet(t)
	a := s.Placeholder("github-token", []byte(tGitHub))
	if b := s.Placeholder("github-token", []byte(tGitHub)); a != b {
		t.Fatalf("same secret, two placeholders: %s %s", a, b)
	}
	if c := s.Placeholder("github-token", []byte(tGitHub[:len(tGitHub)-1]+"9")); a == c {
		t.Fatalf("different secrets, one placeholder %s", a)
	}
	other, _ := Compile([]List{DefaultSecrets()}, []byte("another install"))
	if d := other.Placeholder("github-token", []byte(tGitHub)); a == d {
		t.Fatalf("placeholder does not depend on the install's key: %s", a)
	}
	if !strings.HasPrefix(a, "[FILTERED:github-token:") || len(a) != len("[FILTERED:github-token:7f3a]") {
		t.Fatalf("placeholder %q", a)
	}
}

func TestSecretsEntryOff(t *testing.T) {
	l := DefaultSecrets()
	for i := range l.Entries {
		if l.Entries[i].Name == "github-token" {
			l.Entries[i].Disabled = true
		}
	}
	s, err := Compile([]List{l}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if ms := s.Scan(Request, []byte(tGitHub)); len(ms) != 0 {
		t.Fatalf("disabled entry matched")
	}
	if s.Version() == secretsSet(t).Version() {
		t.Fatalf("version unchanged by disabling an entry")
	}
}

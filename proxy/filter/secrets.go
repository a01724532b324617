package filter

import (
	"bytes"
	"strings"
)

// SecretsList is the name of the built-in list.
const SecretsList = "secrets"

// builtin describes one built-in rule beyond its Entry: how to find
// candidates cheaply and what the regex alone cannot say.
type builtin struct {
	Entry
	// anchors are literals every match contains; the regex runs only
	// around them (a dozen regexes over a 200 KB body would cost tens of
	// milliseconds, the anchors one Aho–Corasick pass).
	anchors []string
	// alpha is the token's alphabet: a match preceded or followed by one
	// of its bytes is part of a longer word, not this token. Nil means
	// the regex's own context decides.
	alpha *[256]bool
	// back and fwd bound the window the regex runs in around an anchor:
	// how far before the anchor a match may start, and after it end.
	// Zero back means matches start at the anchor; zero fwd means the
	// entry's maximum length.
	back, fwd int
	// line runs the regex over the anchor's whole line (its ^ needs it).
	line bool
	// near is a cheap test that a match is possible around the anchor
	// at; nil means always.
	near func(text []byte, at int) bool
	// nearBack and nearFwd bound the bytes near reads: text[at-nearBack :
	// at+nearFwd]. A stream keeps near's answer while they all stay in
	// its window (anchors.go); both zero means unknown.
	nearBack, nearFwd int
	// reject refuses a matched value (placeholders, example values).
	reject func(value, whole []byte, groups [][2]int, names []string) bool
}

func alphabet(extra string) *[256]bool {
	var a [256]bool
	for c := '0'; c <= '9'; c++ {
		a[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		a[c] = true
		a[c-'a'+'A'] = true
	}
	for i := 0; i < len(extra); i++ {
		a[extra[i]] = true
	}
	return &a
}

var (
	alnum       = alphabet("")
	alnumUnder  = alphabet("_")
	alnumDash   = alphabet("_-")
	alnumJWT    = alphabet("_-.")
	base64Chars = alphabet("+/=")
)

// builtinSecrets is the `secrets` list, in priority order: where two
// rules match the same text, the earlier one's placeholder is used, so
// the exact formats come before the generic .env rule.
var builtinSecrets = []builtin{
	{Entry: Entry{Name: "anthropic-key", Note: "Anthropic API and admin keys", Regex: true,
		Pattern: `sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA`},
		anchors: []string{"sk-ant-"}, alpha: alnumDash},
	{Entry: Entry{Name: "anthropic-oauth", Note: "Anthropic OAuth access and refresh tokens (Claude subscriptions)", Regex: true,
		Pattern: `sk-ant-(?:oat01|ort01)-[A-Za-z0-9_-]{80,120}`},
		anchors: []string{"sk-ant-"}, alpha: alnumDash},
	{Entry: Entry{Name: "openai-key", Note: "OpenAI API keys (legacy, project, service account, admin)", Regex: true,
		Pattern: `sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}`, MaxLen: 512},
		anchors: []string{"T3BlbkFJ"}, back: 220, fwd: 220, alpha: alnumDash},
	{Entry: Entry{Name: "github-token", Note: "GitHub personal, OAuth, app and refresh tokens", Regex: true,
		Pattern: `gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}`},
		anchors: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, alpha: alnumUnder},
	{Entry: Entry{Name: "gitlab-token", Note: "GitLab personal, deploy, runner and pipeline trigger tokens", Regex: true,
		Pattern: `gl(?:pat|dt|rt)-[A-Za-z0-9_-]{20}|glptt-[0-9a-f]{40}`},
		anchors: []string{"glpat-", "gldt-", "glrt-", "glptt-"}, alpha: alnumDash},
	{Entry: Entry{Name: "slack-token", Note: "Slack bot, user and app tokens", Regex: true,
		Pattern: `xox[bpae]-[0-9]{10,13}-[0-9]{10,13}(?:-[0-9]{10,13})?-[A-Za-z0-9]{24,32}|xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,13}-[a-f0-9]{64}`},
		anchors: []string{"xoxb-", "xoxp-", "xoxa-", "xoxe-", "xapp-"}, alpha: alnumDash},
	{Entry: Entry{Name: "slack-webhook", Note: "Slack incoming webhook URLs", Regex: true,
		Pattern: `https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}`},
		anchors: []string{"hooks.slack.com/services/"}, back: len("https://"), alpha: alnum},
	{Entry: Entry{Name: "stripe-key", Note: "Stripe secret and restricted keys", Regex: true,
		Pattern: `(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,247}`},
		anchors: []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_"}, alpha: alnumUnder},
	{Entry: Entry{Name: "google-api-key", Note: "Google API keys", Regex: true,
		Pattern: `AIza[0-9A-Za-z_-]{35}`},
		anchors: []string{"AIza"}, alpha: alnumDash},
	{Entry: Entry{Name: "google-oauth-secret", Note: "Google OAuth client secrets", Regex: true,
		Pattern: `GOCSPX-[0-9A-Za-z_-]{28}`},
		anchors: []string{"GOCSPX-"}, alpha: alnumDash},
	{Entry: Entry{Name: "jwt", Note: "JSON Web Tokens (header, payload and signature)", Regex: true,
		Pattern: `eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`, MaxLen: 8192},
		anchors: []string{"eyJ"}, alpha: alnumJWT},
	// RE2 bounds {n,m} at 1000, so the body is unbounded here and the
	// 8 KiB limit is the entry's maximum match length. `\\` admits keys
	// pasted into a string with escaped newlines.
	{Entry: Entry{Name: "private-key", Note: "PEM private key blocks (up to 8 KiB)", Regex: true,
		Pattern: `-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\:,.()-]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----`, MaxLen: 8192},
		anchors: []string{"-----BEGIN "}},
	{Entry: Entry{Name: "url-password", Note: "passwords in URLs (scheme://user:password@host)", Regex: true,
		Pattern: `[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/?#@"'<>\\]{1,128}:(?P<secret>[^\s:/?#@"'<>\\]{1,256})@[A-Za-z0-9\[]`, MaxLen: 512},
		anchors: []string{"://"}, back: 31, near: userinfoAhead, nearFwd: 3 + 400, reject: rejectPlaceholder},
	{Entry: Entry{Name: "aws-access-key-id", Note: "AWS access key ids", Regex: true,
		Pattern: `(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}`,
		Allow:   []string{"AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"}},
		anchors: []string{"AKIA", "ASIA", "ABIA", "ACCA"}, alpha: alnum},
	// An AWS secret key is 40 base64 characters, and so is much else in
	// code: only one named as such or on the line of a key id counts.
	{Entry: Entry{Name: "aws-secret-key", Note: "AWS secret access keys named as such", Regex: true,
		Pattern: `(?i:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)["']?[ \t]*[:=][ \t]*["']?(?P<secret>[A-Za-z0-9/+]{40})`,
		Allow:   []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}},
		anchors: []string{"secret_access_key", "SECRET_ACCESS_KEY", "SecretAccessKey", "secretAccessKey", "aws_secret_key", "AWS_SECRET_KEY", "awsSecretKey"}, back: 4, fwd: 128,
		reject: rejectAWSSecret},
	{Entry: Entry{Name: "aws-secret-key", Note: "AWS secret access keys on the line of a key id", Regex: true,
		Pattern: `(?:AKIA|ASIA)[A-Z2-7]{16}[^A-Za-z0-9/+=\n][^\n]{0,100}?(?P<secret>[A-Za-z0-9/+]{40})|(?P<secret>[A-Za-z0-9/+]{40})[^A-Za-z0-9/+=\n][^\n]{0,100}?(?:AKIA|ASIA)[A-Z2-7]{16}`,
		Allow:   []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}},
		anchors: []string{"AKIA", "ASIA"}, back: 160, fwd: 160,
		reject: rejectAWSSecret},
	// .env lines, also as Claude Code's Read tool shows them (a line
	// number and → or a tab before each line).
	{Entry: Entry{Name: "env-secret", Note: ".env lines NAME=value whose name has a secret, token, password, api_key or private_key part", Regex: true,
		Pattern: `(?m)^[ \t]*(?:[0-9]+(?:→|\t)[ \t]*)?(?:export[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_.-]{0,127})=(?:"|')?(?P<secret>[^\s"'\x60();,]{8,512})`, MaxLen: 1024},
		anchors: []string{"="}, back: 200, line: true, near: secretNameBefore, nearBack: 128, reject: rejectEnv},
}

// secretNameBefore: the '=' at at directly follows a NAME with a secret
// part (DB_PASSWORD=, not MAX_TOKENS= or x == y). Anchoring the .env rule
// on '=' and checking the name here, instead of anchoring on the name
// parts (api, token, secret… are everywhere in code), keeps the regex
// off nearly every line.
func secretNameBefore(text []byte, at int) bool {
	// Reads at most text[at-128:at]: the builtin's nearBack.
	j := at
	for j > 0 && at-j < 128 {
		c := text[j-1]
		if !(c == '_' || c == '.' || c == '-' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			break
		}
		j--
	}
	return j < at && secretName(text[j:at])
}

// userinfoAhead: after "://" comes user:password@ before the host ends.
func userinfoAhead(text []byte, at int) bool {
	// Reads at most text[at+3:at+403]: the builtin's nearFwd.
	colon := false
	for i := at + 3; i < len(text) && i < at+3+400; i++ {
		switch text[i] {
		case '@':
			return colon
		case ':':
			colon = true
		case '/', '?', '#', ' ', '\n', '\t', '"', '\'', '<', '>', '\\':
			return false
		}
	}
	return false
}

// isPlaceholder: values that stand for a secret rather than being one.
func isPlaceholder(v []byte) bool {
	s := string(v)
	switch {
	case strings.HasPrefix(s, "${"), strings.HasPrefix(s, "$("),
		strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">"),
		strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}"),
		strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"),
		strings.HasPrefix(s, "%") && len(s) <= 3,
		strings.HasPrefix(s, "[FILTERED:"):
		return true
	}
	if len(s) > 1 && s[0] == '$' && isIdent(s[1:]) {
		return true
	}
	l := strings.ToLower(s)
	switch l {
	case "changeme", "change_me", "change-me", "password", "passwd", "pass", "pwd", "secret",
		"token", "placeholder", "redacted", "example", "null", "none", "undefined", "your_password", "your-password":
		return true
	}
	if strings.HasPrefix(l, "your_") || strings.HasPrefix(l, "your-") || strings.HasPrefix(l, "changeme") {
		return true
	}
	return repeats(l, 'x') || repeats(l, '*') || repeats(l, '.') || repeats(l, '-') || repeats(l, '#')
}

func repeats(s string, c byte) bool {
	return len(s) > 0 && strings.Trim(s, string(c)) == ""
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

func rejectPlaceholder(value, _ []byte, _ [][2]int, _ []string) bool { return isPlaceholder(value) }

// rejectAWSSecret: a git object id (40 lowercase hex digits) is no AWS key.
func rejectAWSSecret(value, _ []byte, _ [][2]int, _ []string) bool {
	for _, c := range value {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// secretSegments are the name parts that make a .env line a secret.
var secretSegments = map[string]bool{"secret": true, "token": true, "password": true, "passwd": true, "apikey": true, "privatekey": true}

// rejectEnv keeps a .env line only when its name has a secret part
// (DB_PASSWORD, GITHUB_TOKEN, OPENAI_API_KEY; not MAX_TOKENS or
// PRIMARY_KEY) and its value is a value: not all digits, not a
// placeholder.
func rejectEnv(value, whole []byte, groups [][2]int, names []string) bool {
	var name []byte
	for i, n := range names {
		if n == "name" && groups[i][0] >= 0 {
			name = whole[groups[i][0]:groups[i][1]]
		}
	}
	if !secretName(name) {
		return true
	}
	if len(bytes.Trim(value, "0123456789")) == 0 || isPlaceholder(value) {
		return true
	}
	return false
}

func secretName(name []byte) bool {
	segs := strings.FieldsFunc(strings.ToLower(string(name)), func(r rune) bool { return r == '_' || r == '-' || r == '.' })
	for i, s := range segs {
		if secretSegments[s] {
			return true
		}
		if i+1 < len(segs) && (s == "api" || s == "private") && segs[i+1] == "key" {
			return true
		}
	}
	return false
}

// SecretsEntries returns the built-in list's entries, numbered from 1 in
// this order.
func SecretsEntries() []Entry {
	out := make([]Entry, len(builtinSecrets))
	for i, b := range builtinSecrets {
		out[i] = b.Entry
		out[i].Scope = ScopeBoth
		out[i].Allow = append([]string(nil), b.Allow...)
	}
	return out
}

// DefaultSecrets is the built-in list as a fresh install has it: on,
// redacting requests and flagging answers (redacting answers is opt-in:
// the client sends the redacted answer back next turn).
func DefaultSecrets() List {
	return List{Name: SecretsList, Enabled: true, Builtin: true, RequestMode: Redact, ResponseMode: Flag, Entries: SecretsEntries()}
}

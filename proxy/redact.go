package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
)

// Secrets never reach a log line, an error message or a record. Messages
// are built from parts that hold none (route names, masked proxy URLs,
// hosts), and whatever comes from outside (an error's text) goes through
// redact first, in case a library quoted a URL with its password or a key.
var (
	// userinfo: scheme://user:password@ → scheme://user:***@
	userinfoRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:@/\s]*):[^@/\s]*@`)
	// Anthropic keys and Ferry's local tokens look like sk-ant-… / sk-ferry-…
	keyRE = regexp.MustCompile(`sk-[a-zA-Z0-9]+-[A-Za-z0-9_\-]{6,}`)
)

// redact masks credentials in s. It is the one helper every message from
// outside goes through.
func redact(s string) string {
	s = userinfoRE.ReplaceAllString(s, "$1:***@")
	return keyRE.ReplaceAllStringFunc(s, func(k string) string {
		return "sk-***" + fingerprint(k)
	})
}

// fingerprint is a short one-way hash of a key: enough to tell keys apart
// in records and cache keys, useless to spend them.
func fingerprint(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

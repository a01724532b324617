package reqkey

import (
	"strings"

	"github.com/ferry-gateway/ferry/proxy"
)

// KeyFunc is the pipeline's proxy.KeyFunc: the key of a request on one of
// the endpoints that compare requests (Keyed), "" for any other.
// filterVersion names the request filter set in force for out; nil means
// there is none.
func (k *Keyer) KeyFunc(filterVersion func(out *proxy.Outgoing) string) proxy.KeyFunc {
	return func(out *proxy.Outgoing) string {
		if out.Streamed || !Keyed(out.Method, out.Path) {
			return ""
		}
		fv := ""
		if filterVersion != nil {
			fv = filterVersion(out)
		}
		pr, _ := out.KeyPrep().(*Prepared)
		return k.Key(Request{
			Method: out.Method, Path: out.Path, RawQuery: out.RawQuery, Body: out.Body,
			Version: out.Header.Get("Anthropic-Version"), Betas: out.Header.Values("Anthropic-Beta"),
			FilterVersion: fv, Credential: out.Credential(), Prepared: pr,
		})
	}
}

// KeyPrep is the proxy's Options.KeyPrep for KeyFunc's keys: the body's
// canonical form, made ahead beside the request filters (Prepare).
func (k *Keyer) KeyPrep(body []byte) any { return k.Prepare(body) }

// Keyed reports whether requests to method and path have a key: the
// deterministic or repeatable endpoints the cache and the runaway brake
// compare (POST /v1/messages, POST /v1/messages/count_tokens, GET
// /v1/models and /v1/models/{id}).
func Keyed(method, path string) bool {
	switch method {
	case "POST":
		return path == "/v1/messages" || path == "/v1/messages/count_tokens"
	case "GET":
		if path == "/v1/models" {
			return true
		}
		id, ok := strings.CutPrefix(path, "/v1/models/")
		return ok && id != "" && !strings.Contains(id, "/")
	}
	return false
}

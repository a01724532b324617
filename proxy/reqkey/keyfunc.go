package reqkey

import (
	"slices"
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
		r := request(out, filterVersion)
		if a, ok := out.KeyPrep().(*ahead); ok && a.matches(r) {
			return a.key
		}
		return k.Key(r)
	}
}

// KeyPrep is the proxy's Options.KeyPrep for KeyFunc's keys: the whole key
// of the request as it stands before the request filters, computed on the
// proxy's goroutine beside them. The filter set's version is the one in
// force now (the filters record theirs as they run); KeyFunc uses the key
// when that version and every other input came out the same, and the
// proxy hands it over only when the body is still the same slice.
func (k *Keyer) KeyPrep(filterVersion func(out *proxy.Outgoing) string) func(out *proxy.Outgoing) func() any {
	return func(out *proxy.Outgoing) func() any {
		if out.Streamed || !Keyed(out.Method, out.Path) {
			return nil
		}
		r := request(out, filterVersion)
		return func() any { return &ahead{r: r, key: k.Key(r)} }
	}
}

// request gathers a key's inputs from out.
func request(out *proxy.Outgoing, filterVersion func(out *proxy.Outgoing) string) Request {
	fv := ""
	if filterVersion != nil {
		fv = filterVersion(out)
	}
	return Request{
		Method: out.Method, Path: out.Path, RawQuery: out.RawQuery, Body: out.Body,
		Version: out.Header.Get("Anthropic-Version"), Betas: out.Header.Values("Anthropic-Beta"),
		FilterVersion: fv, Credential: out.Credential(),
	}
}

// ahead is a key computed before the request filters ran, with its inputs.
type ahead struct {
	r   Request
	key string
}

// matches reports whether r has ahead's inputs but for the body, which
// the proxy has compared already (the same slice).
func (a *ahead) matches(r Request) bool {
	return a.r.Method == r.Method && a.r.Path == r.Path && a.r.RawQuery == r.RawQuery && a.r.Version == r.Version &&
		slices.Equal(a.r.Betas, r.Betas) && a.r.FilterVersion == r.FilterVersion && a.r.Credential == r.Credential
}

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

package usage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
	"github.com/ferry-gateway/ferry/storage"
)

// apiUsage is a usage object as the Anthropic API sends it. A nil field was
// absent or null: message_delta overlays only the fields it carries, so the
// difference between "0" and "not sent" matters.
type apiUsage struct {
	InputTokens              *int64            `json:"input_tokens"`
	OutputTokens             *int64            `json:"output_tokens"`
	CacheCreationInputTokens *int64            `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int64            `json:"cache_read_input_tokens"`
	CacheCreation            *apiCacheCreation `json:"cache_creation"`
	ServerToolUse            *apiServerToolUse `json:"server_tool_use"`
	ServiceTier              *string           `json:"service_tier"`
	InferenceGeo             *string           `json:"inference_geo"`
	Speed                    *string           `json:"speed"`
	// Iterations is kept raw and read only when priced (iterations.go):
	// few responses carry it, and each of its entries is a usage object.
	Iterations json.RawMessage `json:"iterations"`
}

type apiCacheCreation struct {
	Ephemeral5m *int64 `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h *int64 `json:"ephemeral_1h_input_tokens"`
}

type apiServerToolUse struct {
	WebSearchRequests *int64 `json:"web_search_requests"`
	WebFetchRequests  *int64 `json:"web_fetch_requests"`
}

// The keys of each usage object, as json.Unmarshal would match them to
// apiUsage's fields (TestUsageKeysAreTheTags keeps them in step).
var (
	usageKeys = []string{"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
		"cache_creation", "server_tool_use", "service_tier", "inference_geo", "speed", "iterations"}
	cacheCreationKeys = []string{"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"}
	serverToolUseKeys = []string{"web_search_requests", "web_fetch_requests"}
)

// decode reads the usage object b into u as json.Unmarshal(b, u) does for
// every b that json accepts (FuzzUsageDecode holds it to that), without
// reflection: it runs for every metered response, and json.Unmarshal was
// half of what metering a short stream cost. Like json.Unmarshal it
// matches keys case-insensitively, lets a later duplicate key win, takes
// null for absent and refuses the whole object when a member has the wrong
// type, a fractional or exponent count included. Malformed JSON is refused
// where decode meets it, not always: the values of unknown keys are
// skipped unchecked.
func (u *apiUsage) decode(b []byte) error {
	if isNull(b) {
		return nil
	}
	return decodeMembers(b, usageKeys, func(name string, val []byte) error {
		switch name {
		case "input_tokens":
			return decodeInt(&u.InputTokens, val)
		case "output_tokens":
			return decodeInt(&u.OutputTokens, val)
		case "cache_creation_input_tokens":
			return decodeInt(&u.CacheCreationInputTokens, val)
		case "cache_read_input_tokens":
			return decodeInt(&u.CacheReadInputTokens, val)
		case "cache_creation":
			return decodeObject(&u.CacheCreation, val)
		case "server_tool_use":
			return decodeObject(&u.ServerToolUse, val)
		case "service_tier":
			return decodeString(&u.ServiceTier, val)
		case "inference_geo":
			return decodeString(&u.InferenceGeo, val)
		case "speed":
			return decodeString(&u.Speed, val)
		case "iterations":
			// json.Unmarshal keeps a RawMessage's bytes whatever they
			// hold, null included.
			u.Iterations = bytes.Clone(val)
		}
		return nil
	})
}

func (c *apiCacheCreation) decode(b []byte) error {
	if isNull(b) {
		return nil
	}
	return decodeMembers(b, cacheCreationKeys, func(name string, val []byte) error {
		if name == "ephemeral_5m_input_tokens" {
			return decodeInt(&c.Ephemeral5m, val)
		}
		return decodeInt(&c.Ephemeral1h, val)
	})
}

func (s *apiServerToolUse) decode(b []byte) error {
	if isNull(b) {
		return nil
	}
	return decodeMembers(b, serverToolUseKeys, func(name string, val []byte) error {
		if name == "web_search_requests" {
			return decodeInt(&s.WebSearchRequests, val)
		}
		return decodeInt(&s.WebFetchRequests, val)
	})
}

// decodeMembers hands set each member of the object b whose key stands for
// one of names, with that name; other members are skipped.
func decodeMembers(b []byte, names []string, set func(name string, val []byte) error) error {
	return jsonscan.Members(b, func(key, val []byte) error {
		name := keyName(key, names)
		if name == "" {
			return nil
		}
		if err := set(name, val); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
}

// keyName returns the one of names that key (raw, as it stands between its
// quotes) matches the way json.Unmarshal matches a struct field's name:
// exactly, or else once unescaped and under Unicode case folding
// ("Input_Tokens", "input\u005ftokens" and a Kelvin sign for a k all
// count). "" when it matches none.
func keyName(key []byte, names []string) string {
	for _, n := range names {
		if string(key) == n {
			return n
		}
	}
	// Only an upper-case letter, an escape or a non-ASCII byte can make a
	// key that is not one of the names fold to one.
	if !slices.ContainsFunc(key, func(c byte) bool { return 'A' <= c && c <= 'Z' || c == '\\' || c >= utf8.RuneSelf }) {
		return ""
	}
	k := string(key)
	if strings.IndexByte(k, '\\') >= 0 {
		k = jsonscan.String([]byte(`"` + k + `"`))
	}
	for _, n := range names {
		if strings.EqualFold(k, n) {
			return n
		}
	}
	return ""
}

// isNull reports whether the JSON value b is null, which json.Unmarshal
// takes for absent.
func isNull(b []byte) bool {
	return string(bytes.TrimSpace(b)) == "null"
}

// decodeInt decodes a count. json.Unmarshal refuses to put 1.5 or 1e3 in
// an int64, and so does strconv.ParseInt.
func decodeInt(dst **int64, val []byte) error {
	if isNull(val) {
		*dst = nil
		return nil
	}
	n, err := strconv.ParseInt(string(val), 10, 64)
	if err != nil {
		return err
	}
	*dst = &n
	return nil
}

func decodeString(dst **string, val []byte) error {
	if isNull(val) {
		*dst = nil
		return nil
	}
	s, err := jsonString(val)
	if err != nil {
		return err
	}
	*dst = &s
	return nil
}

// jsonString decodes a JSON string, escapes included.
func jsonString(val []byte) (string, error) {
	if len(val) == 0 || val[0] != '"' {
		return "", fmt.Errorf("%.32q: %w", val, errNotString)
	}
	return jsonscan.String(val), nil
}

// decodeObject decodes a nested object into *dst as json.Unmarshal does:
// null clears it, anything else decodes into the object already there, so
// that a duplicate key adds to the members of the first.
func decodeObject[T any, P interface {
	*T
	decode([]byte) error
}](dst *P, val []byte) error {
	if isNull(val) {
		*dst = nil
		return nil
	}
	if *dst == nil {
		*dst = new(T)
	}
	return (*dst).decode(val)
}

// overlay lays every non-null field of o over u, as the API documents for
// message_delta.usage (its counts are cumulative, not increments).
func (u *apiUsage) overlay(o *apiUsage) {
	if o == nil {
		return
	}
	setInt(&u.InputTokens, o.InputTokens)
	setInt(&u.OutputTokens, o.OutputTokens)
	setInt(&u.CacheCreationInputTokens, o.CacheCreationInputTokens)
	setInt(&u.CacheReadInputTokens, o.CacheReadInputTokens)
	if o.CacheCreation != nil {
		if u.CacheCreation == nil {
			u.CacheCreation = &apiCacheCreation{}
		}
		setInt(&u.CacheCreation.Ephemeral5m, o.CacheCreation.Ephemeral5m)
		setInt(&u.CacheCreation.Ephemeral1h, o.CacheCreation.Ephemeral1h)
	}
	if o.ServerToolUse != nil {
		if u.ServerToolUse == nil {
			u.ServerToolUse = &apiServerToolUse{}
		}
		setInt(&u.ServerToolUse.WebSearchRequests, o.ServerToolUse.WebSearchRequests)
		setInt(&u.ServerToolUse.WebFetchRequests, o.ServerToolUse.WebFetchRequests)
	}
	setStr(&u.ServiceTier, o.ServiceTier)
	setStr(&u.InferenceGeo, o.InferenceGeo)
	setStr(&u.Speed, o.Speed)
	if o.Iterations != nil && !isNull(o.Iterations) {
		u.Iterations = bytes.Clone(o.Iterations)
	}
}

func setInt(dst **int64, v *int64) {
	if v != nil {
		n := *v
		*dst = &n
	}
}

func setStr(dst **string, v *string) {
	if v != nil {
		s := *v
		*dst = &s
	}
}

func val(p *int64) int64 {
	if p == nil || *p < 0 {
		return 0
	}
	return *p
}

// tokens splits the usage into Ferry's price classes. input_tokens is
// already the uncached part of the prompt: nothing is added to it (adding
// the cache counts again is the classic double count).
//
// cache_creation_input_tokens is the total written; the cache_creation
// breakdown says how much of it went to the 1-hour cache. When the
// breakdown is missing (older API versions, message_delta) every write is
// a 5-minute write, the default TTL. When the total and the breakdown
// disagree (a message_delta raised the total), the total wins and the
// difference goes to the 5-minute class, the cheaper one, so Ferry never
// invents 1-hour writes.
func (u *apiUsage) tokens() storage.Tokens {
	t := storage.Tokens{
		Input:     val(u.InputTokens),
		Output:    val(u.OutputTokens),
		CacheRead: val(u.CacheReadInputTokens),
	}
	var w5, w1 int64
	if u.CacheCreation != nil {
		w5, w1 = val(u.CacheCreation.Ephemeral5m), val(u.CacheCreation.Ephemeral1h)
	}
	total := w5 + w1
	if u.CacheCreationInputTokens != nil {
		total = val(u.CacheCreationInputTokens)
	}
	if w1 > total {
		w1 = total
	}
	t.CacheWrite1h = w1
	t.CacheWrite5m = total - w1
	return t
}

// Extras keys recorded in storage.Record.UsageExtras.
const (
	ExtraInferenceGeo      = "inference_geo"
	ExtraSpeed             = "speed"
	ExtraWebSearchRequests = "web_search_requests"
	ExtraWebFetchRequests  = "web_fetch_requests"
	// ExtraCountedTokens holds count_tokens' answer: tokens counted, not spent.
	ExtraCountedTokens = "counted_input_tokens"
	// ExtraUsageUnknown says why a response that should carry usage did not
	// yield it (body over the cap, an encoding Ferry cannot decode).
	ExtraUsageUnknown = "usage_unknown"
)

// extras returns the usage fields that are not token counts but may change
// the price or explain it.
func (u *apiUsage) extras(into map[string]string) map[string]string {
	put := func(k, v string) {
		if v == "" {
			return
		}
		if into == nil {
			into = make(map[string]string)
		}
		into[k] = v
	}
	if u.InferenceGeo != nil {
		put(ExtraInferenceGeo, *u.InferenceGeo)
	}
	if u.Speed != nil {
		put(ExtraSpeed, *u.Speed)
	}
	if s := u.ServerToolUse; s != nil {
		if n := val(s.WebSearchRequests); n > 0 {
			put(ExtraWebSearchRequests, strconv.FormatInt(n, 10))
		}
		if n := val(s.WebFetchRequests); n > 0 {
			put(ExtraWebFetchRequests, strconv.FormatInt(n, 10))
		}
	}
	return into
}

// openAIUsage is the usage object of an OpenAI-format chat completion.
// prompt_tokens includes the cached part, unlike Anthropic's input_tokens.
type openAIUsage struct {
	PromptTokens        *int64 `json:"prompt_tokens"`
	CompletionTokens    *int64 `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens *int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

// anthropic converts to the Anthropic shape so that one code path prices
// both: cached tokens are cache reads, the rest of the prompt is input.
func (o *openAIUsage) anthropic() *apiUsage {
	in, out := val(o.PromptTokens), val(o.CompletionTokens)
	var cached int64
	if o.PromptTokensDetails != nil {
		cached = min(val(o.PromptTokensDetails.CachedTokens), in)
	}
	in -= cached
	return &apiUsage{InputTokens: &in, OutputTokens: &out, CacheReadInputTokens: &cached}
}

// errorBody is the error shape shared by Anthropic ({"type":"error",
// "error":{"type":...}}) and OpenAI-format endpoints ({"error":{"type":...}}).
type errorBody struct {
	Error *struct {
		Type string `json:"type"`
	} `json:"error"`
}

func (e *errorBody) errType() string {
	if e.Error == nil {
		return ""
	}
	return e.Error.Type
}

// messageBody is the part of a non-streaming response the meter reads: a
// Messages API message, a count_tokens answer, an OpenAI chat completion or
// an error, whichever it is.
type messageBody struct {
	Type        string          `json:"type"`
	Model       string          `json:"model"`
	Usage       json.RawMessage `json:"usage"`
	InputTokens *int64          `json:"input_tokens"` // count_tokens
	errorBody
}

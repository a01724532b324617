package storage

// Model names come from outside: a client's request body and the
// upstream's answer. Twenty requests with a 2 MB "model" grew ferry.db to
// 445 MB, and a relay answering with a 200 KB model grew the metrics
// registry to 854 MB (issue 14). Everything that stores or counts a model
// takes it through NormalizeModel first; the forwarded body is never
// changed.

const (
	// MaxModelLen bounds a model name kept in records, rollups and metrics.
	MaxModelLen = 128
	// InvalidModel stands for a model name too long or with characters
	// no model id has.
	InvalidModel = "invalid"
	// OtherKey collects what is past the distinct keys a rollup keeps per
	// bucket (MaxBreakdownKeys).
	OtherKey = "other"
	// MaxBreakdownKeys bounds the distinct models (and routes, and error
	// types) one rollup bucket keeps; the rest are folded into OtherKey.
	MaxBreakdownKeys = 64
)

// NormalizeModel returns m when it is at most MaxModelLen bytes of
// [A-Za-z0-9._:@/-] (every Anthropic, Bedrock and Vertex model id is),
// "" for "", and InvalidModel otherwise.
func NormalizeModel(m string) string {
	if len(m) > MaxModelLen {
		return InvalidModel
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == ':', c == '@', c == '/', c == '-':
		default:
			return InvalidModel
		}
	}
	return m
}

// boundKey is NormalizeModel for the other outside strings a rollup
// counts by (error types from upstream bodies).
func boundKey(k string) string { return NormalizeModel(k) }

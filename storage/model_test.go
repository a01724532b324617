package storage

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNormalizeModel(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"claude-sonnet-4-5-20250929": "claude-sonnet-4-5-20250929",
		"anthropic.claude-3-5-sonnet-20241022-v2:0": "anthropic.claude-3-5-sonnet-20241022-v2:0",
		"claude-3-5-sonnet-v2@20241022":             "claude-3-5-sonnet-v2@20241022",
		"models/claude_x":                           "models/claude_x",
		strings.Repeat("a", 128):                    strings.Repeat("a", 128),
		strings.Repeat("a", 129):                    InvalidModel,
		strings.Repeat("m", 2<<20):                  InvalidModel,
		"claude\x1b[31m":                            InvalidModel,
		"=cmd|' /C calc'!A0":                        InvalidModel,
		"claude sonnet":                             InvalidModel,
		"模型":                                        InvalidModel,
	} {
		if got := NormalizeModel(in); got != want {
			t.Errorf("NormalizeModel(%.40q) = %.40q, want %.40q", in, got, want)
		}
	}
}

// A client sending a new model name on every request, or a 2 MB one,
// must not grow a rollup bucket without bound.
func TestRollupBoundsModelsAndErrorTypes(t *testing.T) {
	var g rollup
	at := time.Unix(1_700_000_000, 0)
	for i := 0; i < 500; i++ {
		g.apply(&Record{Time: at, Model: "model-" + strconv.Itoa(i), Status: 500, ErrorType: "type-" + strconv.Itoa(i)})
	}
	g.apply(&Record{Time: at, Model: strings.Repeat("x", 2<<20), Status: 200})
	if n := len(g.byModel); n > MaxBreakdownKeys+1 {
		t.Errorf("%d models in one bucket", n)
	}
	if g.byModel[OtherKey] == nil || g.byModel[OtherKey].Requests < 500-MaxBreakdownKeys {
		t.Errorf("other = %+v", g.byModel[OtherKey])
	}
	if n := len(g.byType); n > MaxBreakdownKeys+1 {
		t.Errorf("%d error types in one bucket", n)
	}
	for k := range g.byModel {
		if len(k) > MaxModelLen {
			t.Errorf("a %d-byte model key", len(k))
		}
	}
	// Folding survives encoding and merging.
	b := g.encode(nil)
	if len(b) > 64<<10 {
		t.Errorf("encoded bucket is %d bytes", len(b))
	}
}

package usage

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// apiIteration is one entry of usage.iterations: a server-side step
// (compaction, a fallback to another model, the final message) with its
// own usage, and its own model when another model ran it.
type apiIteration struct {
	Type  string `json:"type"`
	Model string `json:"model"`
	apiUsage
}

// maxIterations bounds the iterations priced one by one; a response with
// more (none is known) has the rest priced as one remainder.
const maxIterations = 256

// Extras keys the iteration pricing records in storage.Record.UsageExtras.
const (
	// ExtraIterations lists how many iterations a response had and which
	// models ran them, e.g. "2: claude-opus-4-6 (compaction), claude-sonnet-4-6".
	ExtraIterations = "iterations"
	// ExtraIterationsCheck says by how many tokens the top-level usage
	// exceeded the iterations' sum; those tokens are priced at the
	// response's model so that nothing billed goes uncounted.
	ExtraIterationsCheck = "iterations_check"
)

// priced is the price of one response's usage.
type priced struct {
	tokens storage.Tokens
	usd    float64
	row    string
	known  bool
	extras map[string]string // ExtraIterations, ExtraIterationsCheck
}

// costUsage prices a response's usage: by the top-level usage and the
// response's model, or, when usage.iterations is present, each iteration
// by its own model and usage fields (an iteration without a model or a
// speed takes the response's). extras are the response's price-relevant
// usage fields (service_tier, inference_geo, speed).
//
// The iterations are checked against the top-level usage, class by class:
// compaction reports only the last iteration at the top level, so the sum
// is usually larger, and the sum is what was billed; when the top level is
// larger instead, the iterations left something out and the difference is
// priced at the response's model and noted. Either way the tokens recorded
// are the larger of the two, so a count is never lost nor doubled.
func (p *Prices) costUsage(model string, u *apiUsage, at time.Time, batch bool, extras map[string]string) priced {
	top := u.tokens()
	its := u.iterationList()
	if len(its) == 0 {
		usd, row, known := p.Cost(model, top, at, batch, extras)
		return priced{tokens: top, usd: usd, row: row, known: known}
	}
	out := priced{known: true, extras: map[string]string{}}
	var sum storage.Tokens
	rows := map[string]bool{}
	var names []string
	add := func(m string, t storage.Tokens, ex map[string]string) {
		usd, row, known := p.Cost(m, t, at, batch, ex)
		out.usd += usd
		out.known = out.known && known
		if row == "" {
			row = "unknown " + truncate(m, 64)
		}
		rows[row] = true
	}
	for i, it := range its {
		if i == maxIterations {
			break
		}
		t := it.tokens()
		sum = sum.Add(t)
		m := model
		if it.Model != "" {
			m = it.Model
		}
		ex := extras
		if it.Speed != nil || it.InferenceGeo != nil {
			ex = maps.Clone(extras)
			if ex == nil {
				ex = map[string]string{}
			}
			if it.Speed != nil {
				ex[ExtraSpeed] = *it.Speed
			}
			if it.InferenceGeo != nil {
				ex[ExtraInferenceGeo] = *it.InferenceGeo
			}
		}
		add(m, t, ex)
		name := truncate(m, 64)
		if it.Type != "" && it.Type != "message" {
			name += " (" + truncate(it.Type, 32) + ")"
		}
		if len(names) < 8 {
			names = append(names, name)
		}
	}
	short := storage.Tokens{
		Input:        max(top.Input-sum.Input, 0),
		Output:       max(top.Output-sum.Output, 0),
		CacheWrite5m: max(top.CacheWrite5m-sum.CacheWrite5m, 0),
		CacheWrite1h: max(top.CacheWrite1h-sum.CacheWrite1h, 0),
		CacheRead:    max(top.CacheRead-sum.CacheRead, 0),
	}
	if n := short.Prompt() + short.Output; n > 0 {
		add(model, short, extras)
		out.extras[ExtraIterationsCheck] = fmt.Sprintf("top-level usage exceeds the iterations by %d tokens, priced at %s", n, truncate(model, 64))
	}
	out.tokens = sum.Add(short)
	out.row = strings.Join(slices.Sorted(maps.Keys(rows)), " + ")
	out.extras[ExtraIterations] = strconv.Itoa(len(its)) + ": " + strings.Join(names, ", ")
	return out
}

// iterationList decodes usage.iterations; nil when absent, null or not a
// list of objects (the top-level usage is then all there is).
func (u *apiUsage) iterationList() []apiIteration {
	if len(u.Iterations) == 0 || isNull(u.Iterations) {
		return nil
	}
	var its []apiIteration
	if json.Unmarshal(u.Iterations, &its) != nil {
		return nil
	}
	return its
}

// truncate bounds an outside string before it is stored, never leaving
// half a UTF-8 character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

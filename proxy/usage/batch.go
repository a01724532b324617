package usage

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-gateway/ferry/storage"
)

// batchSum adds up the results of a message batch as they stream by: the
// results file is the only place a batch's usage ever appears, one message
// per line, each priced on its own (a prompt-length tier applies per
// request, not to the sum).
type batchSum struct {
	tokens    storage.Tokens
	cost      float64
	unknown   int // succeeded results whose model has no price
	succeeded int
	failed    int // errored, canceled, expired: not billed
	models    map[string]int
	rows      map[string]bool
}

func (m *Meter) batchLine(line []byte) {
	var v struct {
		Result struct {
			Type    string `json:"type"`
			Message struct {
				Model string    `json:"model"`
				Usage *apiUsage `json:"usage"`
			} `json:"message"`
		} `json:"result"`
	}
	if json.Unmarshal(line, &v) != nil || v.Result.Type == "" {
		return
	}
	b := &m.batch
	if v.Result.Type != "succeeded" || v.Result.Message.Usage == nil {
		b.failed++
		return
	}
	b.succeeded++
	u := v.Result.Message.Usage
	extras := u.extras(nil)
	extras = putExtra(extras, "service_tier", "batch")
	model := v.Result.Message.Model
	pr := m.ms.prices.costUsage(model, u, m.start, true, extras)
	b.tokens = b.tokens.Add(pr.tokens)
	cost, row, known := pr.usd, pr.row, pr.known
	if b.models == nil {
		b.models, b.rows = make(map[string]int), make(map[string]bool)
	}
	b.models[model]++
	if !known {
		b.unknown++
		return
	}
	b.cost += cost
	b.rows[row] = true
}

// ExtraBatchResults summarises a batch results download in UsageExtras.
const ExtraBatchResults = "batch_results"

func (m *Meter) fillBatch(rec *storage.Record) {
	b := &m.batch
	rec.Batch = true
	rec.ServiceTier = "batch"
	if b.succeeded+b.failed == 0 {
		rec.CostUSD, rec.PriceKnown, rec.PriceRow = 0, true, ""
		return
	}
	// The same results may be downloaded again, in this run or after a
	// restart: a batch is counted once.
	if id := batchID(rec.Path); id != "" && !m.ms.ledger.First(id, m.start) {
		rec.UsageExtras = putExtra(rec.UsageExtras, ExtraBatchResults, "already counted")
		rec.CostUSD, rec.PriceKnown, rec.PriceRow = 0, true, ""
		return
	}
	rec.Tokens = b.tokens
	rec.UsageExtras = putExtra(rec.UsageExtras, ExtraBatchResults,
		fmt.Sprintf("%d succeeded, %d not billed", b.succeeded, b.failed))
	models := slices.Sorted(maps.Keys(b.models))
	if len(models) == 1 {
		rec.Model = models[0]
	} else if len(models) > 1 {
		rec.Model = strings.Join(models, ",")
	}
	rec.PriceRow = strings.Join(slices.Sorted(maps.Keys(b.rows)), ",")
	rec.CostUSD = b.cost
	rec.PriceKnown = b.unknown == 0
	if b.unknown > 0 {
		rec.UsageExtras = putExtra(rec.UsageExtras, "unpriced_results", strconv.Itoa(b.unknown))
	}
}

// batchID returns the {id} of /v1/messages/batches/{id}/results.
func batchID(path string) string {
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), "/results")
	i := strings.LastIndex(path, "/")
	if i < 0 || !strings.Contains(path[:i], "batches") {
		return ""
	}
	return path[i+1:]
}

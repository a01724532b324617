package usage

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/ferry-gateway/ferry/storage"
)

// fill writes what the meter learnt into rec.
func (m *Meter) fill(rec *storage.Record) {
	if m.reqHeader != nil {
		rec.Client = ClientFamilyFromHeader(m.reqHeader)
	} else if rec.Client != "" {
		rec.Client = ClientFamily(rec.Client)
	}
	switch {
	case m.model != "":
		rec.Model = m.model
	case rec.Model == "":
		if len(m.reqBody) > 0 && bytes.Contains(m.reqBody, []byte(`"model"`)) {
			var req struct {
				Model string `json:"model"`
			}
			if json.Unmarshal(m.reqBody, &req) == nil {
				m.reqModel = req.Model
			}
		}
		rec.Model = m.reqModel
	}
	// The request's and the response's model are outside input: bounded
	// before anything stores or counts them (issue 14).
	rec.Model = storage.NormalizeModel(rec.Model)
	if rec.ErrorType == "" && m.errType != "" {
		rec.ErrorType = m.errType
		if m.errFrame && rec.ErrorClass == storage.ClassNone {
			rec.ErrorClass = storage.ClassUpstream5xx
		}
	}
	if m.kind == kindBatch || m.kind == kindBatchResults {
		rec.Batch = true
	}
	at := rec.Time
	if at.IsZero() {
		at = m.start
	}
	if !m.firstToken.IsZero() {
		rec.FirstToken = m.firstToken.Sub(at)
	}

	switch {
	case m.kind == kindCountTokens:
		// Counting tokens is free: the count is kept for the curious but
		// never enters Tokens, which sum to spend.
		rec.Tokens = storage.Tokens{}
		if m.counted != nil {
			rec.UsageExtras = putExtra(rec.UsageExtras, ExtraCountedTokens, strconv.FormatInt(*m.counted, 10))
		}
		rec.CostUSD, rec.PriceKnown, rec.PriceRow = 0, true, "count_tokens (free)"
		return
	case m.kind == kindBatchResults:
		m.fillBatch(rec)
		return
	}

	if m.haveUsage {
		if m.usage.ServiceTier != nil && *m.usage.ServiceTier != "" {
			rec.ServiceTier = *m.usage.ServiceTier
		}
		rec.UsageExtras = m.usage.extras(rec.UsageExtras)
		if rec.ServiceTier == "batch" {
			rec.Batch = true
		}
		pr := m.ms.prices.costUsage(rec.Model, &m.usage, at, rec.Batch, priceExtras(rec))
		rec.Tokens, rec.CostUSD, rec.PriceRow, rec.PriceKnown = pr.tokens, pr.usd, pr.row, pr.known
		if m.reqHeader != nil && IsSubscription(m.reqHeader) {
			// A Pro or Max plan pays no tokens: billed $0, and what it
			// would have cost with a key kept for api_equivalent budgets.
			rec.APIEquivUSD, rec.CostUSD = rec.CostUSD, 0
			rec.PriceRow += " " + SubscriptionRow
		}
		for k, v := range pr.extras {
			rec.UsageExtras = putExtra(rec.UsageExtras, k, v)
		}
		if !m.firstToken.IsZero() && rec.Tokens.Output > 0 && m.lastAt.After(m.firstToken) {
			rec.TokensPerSec = float64(rec.Tokens.Output) / m.lastAt.Sub(m.firstToken).Seconds()
		}
		return
	}

	rec.CostUSD, rec.PriceRow = 0, ""
	if why := m.missingUsage(); why != "" {
		rec.PriceKnown = false
		rec.UsageExtras = putExtra(rec.UsageExtras, ExtraUsageUnknown, why)
		return
	}
	// No usage because nothing was billed: an error, a request that never
	// reached the model, an endpoint without usage.
	rec.PriceKnown = true
}

// missingUsage says why a successful response that should have carried
// usage did not yield it, or "" when none was to be expected.
func (m *Meter) missingUsage() string {
	if m.status < 200 || m.status > 299 || m.errType != "" {
		return ""
	}
	if m.kind != kindMessages && m.kind != kindChat {
		return ""
	}
	switch {
	case m.broken:
		return "meter failed"
	case m.unknownWhy != "":
		return m.unknownWhy
	case m.over && m.mode == modeJSON:
		return "body over " + strconv.Itoa(m.limit>>20) + " MiB"
	case m.truncated:
		return "body did not decode"
	}
	// A successful Messages or chat answer always carries usage; one that
	// did not yield any (garbage, a stream cut before message_start) may
	// still have been billed, so it is unknown, never $0.
	return "no usage in the response"
}

func priceExtras(rec *storage.Record) map[string]string {
	if rec.ServiceTier == "" {
		return rec.UsageExtras
	}
	e := make(map[string]string, len(rec.UsageExtras)+1)
	for k, v := range rec.UsageExtras {
		e[k] = v
	}
	e["service_tier"] = rec.ServiceTier
	return e
}

func putExtra(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = make(map[string]string)
	}
	m[k] = v
	return m
}

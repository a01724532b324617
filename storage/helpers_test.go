package storage

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	testModels  = []string{"claude-sonnet-4-5-20250929", "claude-opus-4-1", "claude-haiku-4-5", ""}
	testRoutes  = []string{"direct", "home-socks", "office-http", ""}
	testClients = []string{"claude-cli", "anthropic-sdk-python", "anthropic-sdk-typescript", "other"}
)

func logUniform(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return time.Duration(math.Exp(math.Log(float64(lo)) + rng.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))))
}

// randomRecord returns a plausible record at t: mostly successes, every
// error class, some unknown prices, cache hits and requests without a first token.
func randomRecord(rng *rand.Rand, t time.Time, n int) Record {
	r := Record{
		Time:           t,
		Method:         "POST",
		Path:           "/v1/messages",
		Model:          testModels[rng.IntN(len(testModels))],
		Stream:         rng.IntN(2) == 0,
		Status:         200,
		Route:          testRoutes[rng.IntN(len(testRoutes))],
		Client:         testClients[rng.IntN(len(testClients))],
		RequestID:      fmt.Sprintf("req_%08d", n),
		KeyFingerprint: "fp:1a2b3c4d",
		PriceKnown:     true,
	}
	switch x := rng.IntN(20); {
	case x == 0:
		r.Status, r.ErrorClass, r.ErrorType = 529, ClassUpstream5xx, "overloaded_error"
	case x == 1:
		r.Status, r.ErrorClass, r.ErrorType = 429, ClassUpstream4xx, "rate_limit_error"
	case x == 2:
		r.Status, r.ErrorClass, r.ErrorType = 502, ClassNetwork, "proxy_unreachable"
	case x == 3:
		r.Status, r.ErrorClass, r.ErrorType = 401, ClassClient4xx, "authentication_error"
	case x == 4:
		r.Status, r.ErrorClass, r.ErrorType = 503, ClassFerry, "paused"
	case x == 5:
		r.Status = 500 // class and type left for EffectiveClass to infer
	}
	if r.Status < 400 || rng.IntN(3) == 0 {
		r.Tokens = Tokens{
			Input:        rng.Int64N(5000),
			Output:       rng.Int64N(2000),
			CacheWrite5m: rng.Int64N(3) * rng.Int64N(10000),
			CacheWrite1h: rng.Int64N(2) * rng.Int64N(10000),
			CacheRead:    rng.Int64N(50000),
		}
	}
	if r.Model == "claude-opus-4-1" && rng.IntN(4) == 0 {
		r.PriceKnown = false // a model the table does not know yet
	}
	if r.PriceKnown {
		r.CostUSD = float64(r.Tokens.Input)*3e-6 + float64(r.Tokens.Output)*15e-6 + float64(r.Tokens.CacheRead)*0.3e-6
		r.PriceRow = "claude-sonnet-4-5@2025-09-29"
	}
	r.CacheHit = rng.IntN(25) == 0
	if r.CacheHit {
		r.SavedUSD, r.SavedTokens = float64(rng.IntN(1000))/1000, rng.Int64N(50000)
	} else if rng.IntN(40) == 0 {
		r.Coalesced, r.SavedUSD, r.SavedTokens = true, float64(rng.IntN(1000))/1000, rng.Int64N(50000)
	}
	if r.ErrorClass != ClassClient4xx && r.ErrorClass != ClassFerry {
		r.FirstByte = logUniform(rng, 5*time.Millisecond, 20*time.Second)
		if r.Status == 200 && rng.IntN(5) != 0 {
			r.FirstToken = r.FirstByte + logUniform(rng, time.Millisecond, 5*time.Second)
		}
	}
	r.Total = r.FirstByte + r.FirstToken + logUniform(rng, time.Millisecond, 2*time.Minute)
	r.BytesIn = rng.Int64N(200000)
	r.BytesOut = rng.Int64N(100000)
	if r.Total > 0 {
		r.TokensPerSec = float64(r.Tokens.Output) / r.Total.Seconds()
	}
	return r
}

// writeDirect stores recs through the same path the Recorder uses, in
// batches, without a Recorder: for building fixtures fast.
func writeDirect(t testing.TB, db *DB, recs []Record) {
	t.Helper()
	for len(recs) > 0 {
		n := min(len(recs), 10000)
		err := db.bolt.Update(func(tx *bolt.Tx) error { return writeRecords(tx, recs[:n]) })
		if err != nil {
			t.Fatal(err)
		}
		recs = recs[n:]
	}
}

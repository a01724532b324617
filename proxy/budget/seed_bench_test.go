package budget

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// BenchmarkSeed is what the budgets add to Ferry's start: reading the
// current month from a history of 60 days on a real bbolt file.
//
//	go test ./proxy/budget -run '^$' -bench Seed -benchtime 3x
func BenchmarkSeed(b *testing.B) {
	for _, n := range []int{100_000, 500_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			db, err := storage.Open(filepath.Join(b.TempDir(), "ferry.db"), storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			now := time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC)
			h := &history{db: db}
			recs := make([]storage.Record, 0, 10_000)
			for i := range n {
				at := now.Add(-time.Duration(int64(60*24*time.Hour) * int64(n-i) / int64(n)))
				r := msg(at, 0.01)
				r.Session = fmt.Sprintf("sess-%d", i/200)
				recs = append(recs, r)
				if len(recs) == cap(recs) {
					h.storeB(b, recs...)
					recs = recs[:0]
				}
			}
			h.storeB(b, recs...)
			if got, _ := db.Count(); got != n {
				b.Fatalf("%d records stored of %d", got, n)
			}
			b.ResetTimer()
			for b.Loop() {
				g, err := Open(Options{Records: db, Location: time.UTC, Now: func() time.Time { return now }})
				if err != nil {
					b.Fatal(err)
				}
				if g.Ledger().Spent(Monthly, Billed, "", now) == 0 {
					b.Fatal("nothing seeded")
				}
			}
		})
	}
}

// BenchmarkCheckAndObserve is what five hard budgets cost one request:
// the check on the way out and the count when it is accounted.
//
//	go test ./proxy/budget -run '^$' -bench CheckAndObserve
func BenchmarkCheckAndObserve(b *testing.B) {
	g, err := Open(Options{Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	for _, bg := range []Budget{{Name: Daily, Limit: 1e6}, {Name: Monthly, Limit: 1e6}, {Name: RequestsDaily, Limit: 1e8},
		{Name: Session, Limit: 1e6}, {Name: Rate, Limit: 1e6, Basis: APIEquivalent}} {
		if err := g.Set(bg); err != nil {
			b.Fatal(err)
		}
	}
	rec := msg(time.Now(), 0.01)
	b.ReportAllocs()
	for b.Loop() {
		if g.Check("POST", "/v1/messages", "sess") != nil {
			b.Fatal("refused")
		}
		g.Observe(&rec, "sess")
	}
}

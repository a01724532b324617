package storage

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkRecorderIngest measures sustained ingest through the Recorder
// with fsync on, as Ferry runs: the producer only waits when the queue is
// nearly full, so the figure is the writer's throughput, and nothing may be
// dropped. Run with e.g. -benchtime=200000x for a sustained figure.
func BenchmarkRecorderIngest(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "ferry.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	pool := make([]Record, 1024)
	for i := range pool {
		pool[i] = randomRecord(rng, time.Time{}, i)
	}
	rec := NewRecorder(db, RecorderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- rec.Run(ctx) }()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for len(rec.queue) >= cap(rec.queue)-1 {
			time.Sleep(50 * time.Microsecond)
		}
		r := pool[i%len(pool)]
		r.Time = time.Now()
		rec.Record(r)
	}
	if err := rec.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	if d := rec.Dropped(); d != 0 {
		b.Fatalf("%d records dropped", d)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "records/s")
	b.ReportMetric(float64(rec.Stats().Batches), "batches")
}

// BenchmarkRecordCall is the cost a request pays: one Record call.
func BenchmarkRecordCall(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "ferry.db"), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rec := NewRecorder(db, RecorderOptions{QueueSize: 1 << 20})
	r := randomRecord(rand.New(rand.NewPCG(2, 2)), time.Now(), 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(rec.queue) == cap(rec.queue) { // nobody drains here: empty it off the clock
			b.StopTimer()
			for len(rec.queue) > 0 {
				<-rec.queue
			}
			b.StartTimer()
		}
		rec.Record(r)
	}
}

// benchRecords is how many records BenchmarkQueries stores; FERRY_BENCH_RECORDS
// overrides it for a quick run.
func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("FERRY_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkQueries stores 1,000,000 random records spread over the last 90
// days (the default retention) once, reports the file size, then times
// Summary for the dashboard's windows, a Series and a page of Records.
func BenchmarkQueries(b *testing.B) {
	n := benchRecords()
	path := filepath.Join(b.TempDir(), "ferry.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	span := 90 * 24 * time.Hour
	rng := rand.New(rand.NewPCG(3, 3))
	const batch = 20000
	recs := make([]Record, 0, batch)
	build := time.Now()
	for i := range n {
		// Nearly in time order, as the recorder writes them.
		t := now.Add(-span + time.Duration(float64(span)*float64(i)/float64(n)))
		recs = append(recs, randomRecord(rng, t, i))
		if len(recs) == batch || i == n-1 {
			writeDirect(b, db, recs)
			recs = recs[:0]
		}
	}
	buildTook := time.Since(build)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("stored %d records in %v (%.0f records/s without fsync); file %.1f MB = %.1f MB per 1M records",
		n, buildTook.Round(time.Millisecond), float64(n)/buildTook.Seconds(), float64(fi.Size())/1e6, float64(fi.Size())/1e6*1e6/float64(n))
	db, err = Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// In steady state retention keeps minute rollups for 8 days only, not
	// the 90 the build wrote: prune them and report the bytes in use (bbolt
	// reuses freed pages, so this is what the file settles at).
	if _, err := db.Prune(now.Add(-span - time.Hour)); err != nil {
		b.Fatal(err)
	}
	size, _ := db.Size()
	inUse := size - int64(db.bolt.Stats().FreeAlloc)
	b.Logf("after pruning minute rollups to %v: %.1f MB in use = %.1f MB per 1M records", MinuteRollupRetention,
		float64(inUse)/1e6, float64(inUse)/1e6*1e6/float64(n))

	for _, w := range []struct {
		name string
		d    time.Duration
	}{
		{"summary_5m", 5 * time.Minute},
		{"summary_15m", 15 * time.Minute},
		{"summary_1h", time.Hour},
		{"summary_24h", 24 * time.Hour},
		{"summary_7d", 7 * 24 * time.Hour},
		{"summary_30d", 30 * 24 * time.Hour},
		{"summary_90d", 90 * 24 * time.Hour},
	} {
		b.Run(w.name, func(b *testing.B) {
			var s Summary
			for i := 0; i < b.N; i++ {
				s, err = db.Summary(now.Add(-w.d), now)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.Requests), "requests")
		})
	}
	b.Run("series_30d_by_hour", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := db.Series(now.Add(-30*24*time.Hour), now, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("series_24h_by_minute", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := db.Series(now.Add(-24*time.Hour), now, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("records_100", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := db.Records(0, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
}

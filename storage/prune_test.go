package storage

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openAt(t *testing.T, now time.Time) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "ferry.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func keyCount(t *testing.T, db *DB, g grain) int {
	t.Helper()
	var n int
	db.bolt.View(func(tx *bolt.Tx) error {
		n = sub(tx, bucketRollups).Bucket(g.bucket).Stats().KeyN
		return nil
	})
	return n
}

func TestPrune(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	db := openAt(t, now)
	day := 24 * time.Hour
	before := now.Add(-90 * day)
	at := func(d time.Duration, id string) Record {
		return Record{Time: now.Add(-d), Path: "/v1/messages", Status: 200, RequestID: id, Total: time.Second}
	}
	// In write (ID) order. "straggler" started before the cutoff but was
	// written after a request that started just after it.
	recs := []Record{
		at(6*365*day, "ancient"),
		at(100*day, "old"),
		at(91*day, "older than retention"),
		at(90*day-10*time.Minute, "just inside"),
		at(90*day+30*time.Minute, "straggler"),
		at(89*day, "kept"),
		at(10*day, "last week"),
		at(time.Hour, "recent"),
	}
	writeDirect(t, db, recs)

	n, err := db.Prune(before)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("pruned %d records, want 4", n)
	}
	left, err := db.Records(0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range left {
		ids = append(ids, r.RequestID)
	}
	want := []string{"recent", "last week", "kept", "just inside"}
	if len(ids) != len(want) {
		t.Fatalf("left %q, want %q", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("left %q, want %q", ids, want)
		}
	}

	// Rollups outlive records: minute rollups only for the last 8 days,
	// hour rollups 400 days, day rollups 5 years.
	if got := keyCount(t, db, grainMinute); got != 1 {
		t.Errorf("%d minute rollups left, want 1 (the recent one)", got)
	}
	if got := keyCount(t, db, grainHour); got != 7 {
		t.Errorf("%d hour rollups left, want 7", got)
	}
	if got := keyCount(t, db, grainDay); got != 6 { // "just inside" and "straggler" share a day
		t.Errorf("%d day rollups left, want 6", got)
	}
	s, err := db.Summary(now.Add(-365*day), now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 7 {
		t.Errorf("year summary after prune counts %d requests, want 7", s.Requests)
	}
	// A window with minute edges where minutes were pruned widens to hours.
	d := now.Add(-10 * day)
	s, err = db.Summary(d.Add(-5*time.Minute), d.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 1 || !s.From.Equal(d.Add(-time.Hour)) || !s.To.Equal(d.Add(time.Hour)) {
		t.Errorf("old 10-minute window: %d requests over [%v, %v)", s.Requests, s.From, s.To)
	}
	// Series steps move to the hour holding them and still partition time.
	pts, err := db.Series(d.Add(-2*time.Hour), d.Add(2*time.Hour), 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, p := range pts {
		total += p.Requests
	}
	if total != 1 {
		t.Errorf("series over pruned minutes counts %d requests, want 1", total)
	}

	if n, err := db.Prune(before); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0, nil", n, err)
	}
	if n, err := db.Prune(time.Time{}); err != nil || n != 0 {
		t.Errorf("Prune(zero) = %d, %v; want 0, nil", n, err)
	}
}

func TestPruneManyInChunks(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	db := openAt(t, now)
	rng := rand.New(rand.NewPCG(9, 10))
	const old, recent = 2*pruneChunk + 123, 500
	recs := make([]Record, 0, old+recent)
	for i := range old {
		recs = append(recs, randomRecord(rng, now.Add(-100*24*time.Hour+time.Duration(i)*time.Second), i))
	}
	for i := range recent {
		recs = append(recs, randomRecord(rng, now.Add(-time.Duration(recent-i)*time.Second), i))
	}
	writeDirect(t, db, recs)
	n, err := db.Prune(now.Add(-90 * 24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != old {
		t.Errorf("pruned %d, want %d", n, old)
	}
	if c, _ := db.Count(); c != recent {
		t.Errorf("%d records left, want %d", c, recent)
	}
}

func TestRunRetention(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	db := openAt(t, now)
	writeDirect(t, db, []Record{
		{Time: now.Add(-40 * 24 * time.Hour), Path: "/a"},
		{Time: now.Add(-20 * 24 * time.Hour), Path: "/b"},
		{Time: now.Add(-time.Minute), Path: "/c"},
	})
	// retention is only touched on runRetention's goroutine; the test hands
	// it the next value through next, after each pass.
	retention := 30 * 24 * time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pruned := make(chan int)
	next := make(chan time.Duration)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.runRetention(ctx, func() time.Duration { return retention }, time.Millisecond, func(n int, err error) {
			if err != nil {
				t.Error(err)
			}
			pruned <- n
			retention = <-next
		})
	}()
	for i, want := range []struct {
		pruned int
		next   time.Duration
	}{
		{1, 10 * 24 * time.Hour}, // 30 days: the 40-day-old record goes
		{1, 0},                   // 10 days: the 20-day-old one goes
		{0, 0},                   // 0 keeps everything
	} {
		if n := <-pruned; n != want.pruned {
			t.Errorf("pass %d pruned %d, want %d", i, n, want.pruned)
		}
		if i == 2 {
			cancel()
		}
		next <- want.next
	}
	<-done
	if c, _ := db.Count(); c != 1 {
		t.Errorf("%d records left, want 1", c)
	}
}
